using Parley.Client;

namespace Parley.Tests.Client;

/// <summary>Expect: 100-continue (RFC 9110 §10.1.1) after the 100 arrives: which wait is armed, and the body goes once.</summary>
public class ExpectContinueWireTests
{
    [Fact]
    public async Task After_100_Continue_and_the_body_the_wait_is_for_the_response_head()
    {
        await using var server = new ScriptedServer(async exchange =>
        {
            await exchange.SendAsync("HTTP/1.1 100 Continue\r\n\r\n");
            await exchange.HangAsync();
        });
        using var client = new ParleyClient(new ParleyClientOptions
        {
            ResponseHeadersTimeout = TimeSpan.FromMilliseconds(300),
            BodyIdleTimeout = TimeSpan.FromSeconds(5),
            ExpectContinueTimeout = TimeSpan.FromMinutes(10),
        });
        var request = new ParleyRequest("PUT", server.Url) { Content = ParleyContent.FromBytes(new byte[1000]), ExpectContinue = true };
        var error = await Assert.ThrowsAsync<ParleyHttpException>(async () => await client.SendAsync(request));
        Assert.Equal(ParleyErrorKind.Timeout, error.Kind);
        Assert.EndsWith($" ms waiting for the response head from 127.0.0.1:{server.Port}", error.Message);
    }

    [Fact]
    public async Task A_final_response_later_than_the_Expect_timer_follows_a_body_sent_once()
    {
        var observer = new RecordingObserver();
        await using var server = new ScriptedServer(async exchange =>
        {
            await exchange.SendAsync("HTTP/1.1 100 Continue\r\n\r\n");
            // Longer than ExpectContinueTimeout: that timer has no say once the 100 came.
            await Task.Delay(400);
            await exchange.SendAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
            await exchange.HangAsync();
        });
        using var client = new ParleyClient(new ParleyClientOptions { Observer = observer, ExpectContinueTimeout = TimeSpan.FromMilliseconds(100) });
        var request = new ParleyRequest("PUT", server.Url) { Content = ParleyContent.FromBytes(new byte[1000]), ExpectContinue = true };
        using (ParleyResponse response = await client.SendAsync(request))
        {
            Assert.Equal("ok", await response.ReadAsStringAsync());
        }
        List<SessionEventKind> kinds = observer.Kinds();
        Assert.Equal(1, kinds.Count(k => k == SessionEventKind.FirstResponseByte));
        Assert.Equal(1, kinds.Count(k => k == SessionEventKind.InterimResponseReceived));
        lock (observer.Events) Assert.Equal(1000, observer.Events.Single(e => e.Kind == SessionEventKind.RequestBodySent).Size);
        Assert.Contains("\r\nExpect: 100-continue\r\n", server.Requests[0]);
    }
}
