namespace Parley.Http1;

/// <summary>
/// The request methods of RFC 9110 §9 and RFC 5789, as shared string instances so that parsing a known
/// method allocates nothing and comparisons can be by reference.
/// </summary>
public static class HttpMethods
{
    /// <summary>GET (RFC 9110 §9.3.1).</summary>
    public const string Get = "GET";
    /// <summary>HEAD (RFC 9110 §9.3.2).</summary>
    public const string Head = "HEAD";
    /// <summary>POST (RFC 9110 §9.3.3).</summary>
    public const string Post = "POST";
    /// <summary>PUT (RFC 9110 §9.3.4).</summary>
    public const string Put = "PUT";
    /// <summary>DELETE (RFC 9110 §9.3.5).</summary>
    public const string Delete = "DELETE";
    /// <summary>CONNECT (RFC 9110 §9.3.6).</summary>
    public const string Connect = "CONNECT";
    /// <summary>OPTIONS (RFC 9110 §9.3.7).</summary>
    public const string Options = "OPTIONS";
    /// <summary>TRACE (RFC 9110 §9.3.8).</summary>
    public const string Trace = "TRACE";
    /// <summary>PATCH (RFC 5789).</summary>
    public const string Patch = "PATCH";

    /// <summary>True for the methods this module names; others are extension methods.</summary>
    public static bool IsStandard(string method) => Intern(method) is not null;

    /// <summary>Returns the shared instance of a known method (case-sensitive, RFC 9110 §9.1), or null.</summary>
    public static string? Intern(ReadOnlySpan<byte> method) => method.Length switch
    {
        3 when method.SequenceEqual("GET"u8) => Get,
        3 when method.SequenceEqual("PUT"u8) => Put,
        4 when method.SequenceEqual("HEAD"u8) => Head,
        4 when method.SequenceEqual("POST"u8) => Post,
        5 when method.SequenceEqual("PATCH"u8) => Patch,
        5 when method.SequenceEqual("TRACE"u8) => Trace,
        6 when method.SequenceEqual("DELETE"u8) => Delete,
        7 when method.SequenceEqual("OPTIONS"u8) => Options,
        7 when method.SequenceEqual("CONNECT"u8) => Connect,
        _ => null,
    };

    private static string? Intern(string method) => method switch
    {
        Get => Get, Put => Put, Head => Head, Post => Post, Patch => Patch,
        Trace => Trace, Delete => Delete, Options => Options, Connect => Connect,
        _ => null,
    };
}
