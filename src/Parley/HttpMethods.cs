namespace Parley;

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

    // The standard methods by kind (1-based; 0 is an extension method), so a parse records a method
    // with a byte store rather than a reference store and its write barrier.
    private static readonly string[] ByKind = [Get, Put, Head, Post, Patch, Trace, Delete, Options, Connect];

    /// <summary>The kind of a method's bytes: 1 to 9 for the standard methods (case-sensitive, RFC 9110 §9.1), else 0.</summary>
    internal static byte KindOf(ReadOnlySpan<byte> method) => method.Length switch
    {
        3 when method.SequenceEqual("GET"u8) => GetKind,
        3 when method.SequenceEqual("PUT"u8) => 2,
        4 when method.SequenceEqual("HEAD"u8) => 3,
        4 when method.SequenceEqual("POST"u8) => 4,
        5 when method.SequenceEqual("PATCH"u8) => 5,
        5 when method.SequenceEqual("TRACE"u8) => 6,
        6 when method.SequenceEqual("DELETE"u8) => 7,
        7 when method.SequenceEqual("OPTIONS"u8) => 8,
        7 when method.SequenceEqual("CONNECT"u8) => 9,
        _ => 0,
    };

    /// <summary>The kind of GET.</summary>
    internal const byte GetKind = 1;

    /// <summary>The shared string of a method kind other than 0.</summary>
    internal static string OfKind(byte kind) => ByKind[kind - 1];

    /// <summary>True for the methods this module names; others are extension methods.</summary>
    public static bool IsStandard(string method) => Intern(method) is not null;

    /// <summary>Returns the shared instance of a known method (case-sensitive, RFC 9110 §9.1), or null.</summary>
    internal static string? Intern(ReadOnlySpan<byte> method)
    {
        byte kind = KindOf(method);
        return kind == 0 ? null : OfKind(kind);
    }

    private static string? Intern(string method) => method switch
    {
        Get => Get, Put => Put, Head => Head, Post => Post, Patch => Patch,
        Trace => Trace, Delete => Delete, Options => Options, Connect => Connect,
        _ => null,
    };
}
