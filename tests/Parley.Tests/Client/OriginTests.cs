using Parley.Client;

namespace Parley.Tests.Client;

/// <summary>Origin (RFC 6454 §4): scheme, host and port of a request URI, and the Host field it implies.</summary>
public class OriginTests
{
    [Theory]
    [InlineData("http://example.com/a", "http", "example.com", 80, "example.com")]
    [InlineData("https://example.com/a", "https", "example.com", 443, "example.com")]
    [InlineData("http://example.com:443/", "http", "example.com", 443, "example.com:443")]
    [InlineData("https://example.com:80/", "https", "example.com", 80, "example.com:80")]
    [InlineData("http://example.com:8080/", "http", "example.com", 8080, "example.com:8080")]
    [InlineData("http://example.com:0/", "http", "example.com", 0, "example.com:0")]
    [InlineData("http://[::1]:81/", "http", "::1", 81, "[::1]:81")]
    [InlineData("https://[::1]/", "https", "::1", 443, "[::1]")]
    [InlineData("http://a/", "http", "a", 80, "a")]
    [InlineData("http://b\u00fccher.example/", "http", "xn--bcher-kva.example", 80, "xn--bcher-kva.example")]
    public void The_origin_of_a_URI_has_its_scheme_host_and_port(string uri, string scheme, string host, int port, string hostField)
    {
        Origin origin = Origin.Of(new Uri(uri));

        Assert.Equal(new Origin(scheme, host, port), origin);
        Assert.Equal(hostField, origin.HostField());
        Assert.Equal($"{scheme}://{hostField}", origin.ToString());
        Assert.Equal(scheme == "https", origin.IsSecure);
    }

    [Fact]
    public void URIs_differing_only_in_path_case_of_host_or_explicit_default_port_share_an_origin()
    {
        Assert.Equal(Origin.Of(new Uri("http://Example.COM/x")), Origin.Of(new Uri("http://example.com:80/y?z")));
        Assert.NotEqual(Origin.Of(new Uri("http://example.com/")), Origin.Of(new Uri("https://example.com/")));
        Assert.NotEqual(Origin.Of(new Uri("http://example.com/")), Origin.Of(new Uri("http://example.com:81/")));
    }

    [Fact]
    public void A_relative_URI_is_refused_with_the_URI_named()
    {
        var ex = Assert.Throws<ArgumentException>(() => Origin.Of(new Uri("/relative/path", UriKind.Relative)));
        Assert.Equal("uri", ex.ParamName);
        Assert.StartsWith("the request URI must be absolute: '/relative/path'", ex.Message);
    }

    [Fact]
    public void An_unsupported_scheme_is_refused_with_the_scheme_named()
    {
        var ex = Assert.Throws<NotSupportedException>(() => Origin.Of(new Uri("ftp://example.com/file")));
        Assert.Equal("unsupported scheme 'ftp' in 'ftp://example.com/file': Parley speaks http:// and https://", ex.Message);
    }
}
