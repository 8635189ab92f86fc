using Parley.Client;

// Parley's own client: a pooled, keep-alive connection per origin.
using var client = new ParleyClient();
using ParleyResponse response = await client.GetAsync("http://127.0.0.1:8080/users/42");
Console.WriteLine($"{response.StatusCode} {response.ReasonPhrase}: {await response.ReadAsStringAsync()}");

// The same engine under HttpClient's API, for code that already speaks HttpClient.
using var http = new HttpClient(new ParleyHandler());
Console.WriteLine(await http.GetStringAsync("http://127.0.0.1:8080/users/7"));
