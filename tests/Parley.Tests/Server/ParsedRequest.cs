using System.Text;
using Parley.Http1;
using Parley.Server;

namespace Parley.Tests.Server;

/// <summary>Requests made from request text by the real parser, for tests that call server code in process.</summary>
internal static class ParsedRequest
{
    /// <summary>Parses <paramref name="requestText"/> (a whole head, ending in an empty line) into a request.</summary>
    public static HttpRequest From(string requestText)
    {
        var head = new RequestHead();
        head.Reset();
        Assert.Equal(ParseStatus.Complete, RequestHeadParser.Parse(Encoding.ASCII.GetBytes(requestText), head, HeadLimits.Default, out _));
        return new HttpRequest(head);
    }
}
