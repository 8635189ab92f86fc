using System.Text;
using Parley.Content.StaticFiles;
using Parley.Tests.Server;

namespace Parley.Tests.Content.StaticFiles;

/// <summary>
/// A temporary directory holding a site root ("site/") and, beside it, a secret file that must never be
/// served. Disposing deletes it all.
/// </summary>
public sealed class StaticSite : IDisposable
{
    public const string Secret = "TOP-SECRET-7f3a9c-never-serve-me";

    public StaticSite()
    {
        Base = Directory.CreateTempSubdirectory("parley-static-").FullName;
        Root = Directory.CreateDirectory(Path.Combine(Base, "site")).FullName;
        SecretPath = Path.Combine(Base, "secret.txt");
        File.WriteAllText(SecretPath, Secret + "\n");
    }

    public string Base { get; }
    public string Root { get; }
    public string SecretPath { get; }

    public string Write(string relative, string content) => Write(relative, Encoding.UTF8.GetBytes(content));

    public string Write(string relative, byte[] content)
    {
        string path = Path.Combine(Root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, content);
        return path;
    }

    public static byte[] RandomBytes(int length, int seed = 1)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    public static string Text(int length)
    {
        var text = new StringBuilder(length);
        for (int i = 0; text.Length < length; i++) text.Append("line ").Append(i).Append(": the quick brown fox jumps over the lazy dog\n");
        return text.ToString(0, length);
    }

    public Task<TestServer> StartAsync(Func<StaticFileOptions, StaticFileOptions>? configure = null)
    {
        var options = new StaticFileOptions { Root = Root };
        if (configure is not null) options = configure(options);
        return TestServer.StartAsync(new StaticFileHandler(options).Handler);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Base, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

internal static class RawConnectionExtensions
{
    /// <summary>Sends one request on the connection and reads its response.</summary>
    public static async Task<RawResponse> RequestAsync(this RawConnection connection, string target, string extraHeaders = "", string method = "GET")
    {
        await connection.SendAsync($"{method} {target} HTTP/1.1\r\nHost: test\r\n{extraHeaders}\r\n");
        return await connection.ReadResponseAsync(headRequest: method == "HEAD");
    }

    public static async Task<RawResponse> GetAsync(this TestServer server, string target, string extraHeaders = "", string method = "GET")
    {
        await using RawConnection connection = await server.ConnectAsync();
        return await connection.RequestAsync(target, extraHeaders, method);
    }
}
