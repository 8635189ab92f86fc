using System.Text;

namespace Parley.Http1;

/// <summary>
/// Header fields that the engine itself interprets. They are recognised while parsing, by length and a
/// case-insensitive byte compare (RFC 9110 §5.1: field names are case-insensitive), so framing decisions
/// never build a string.
/// </summary>
public enum KnownField : byte
{
    /// <summary>Any field the engine does not interpret.</summary>
    Other = 0,
    /// <summary>Host (RFC 9110 §7.2).</summary>
    Host,
    /// <summary>Content-Length (RFC 9110 §8.6).</summary>
    ContentLength,
    /// <summary>Transfer-Encoding (RFC 9112 §6.1).</summary>
    TransferEncoding,
    /// <summary>Connection (RFC 9110 §7.6.1).</summary>
    Connection,
    /// <summary>Expect (RFC 9110 §10.1.1).</summary>
    Expect,
    /// <summary>Keep-Alive (RFC 2068 §19.7.1, still sent by HTTP/1.0 peers).</summary>
    KeepAlive,
    /// <summary>Content-Type (RFC 9110 §8.3).</summary>
    ContentType,
    /// <summary>Upgrade (RFC 9110 §7.8).</summary>
    Upgrade,
    /// <summary>Trailer (RFC 9110 §6.6.2).</summary>
    Trailer,
    /// <summary>TE (RFC 9110 §10.1.4).</summary>
    TE,
    /// <summary>Location (RFC 9110 §10.2.2).</summary>
    Location,
    /// <summary>Content-Encoding (RFC 9110 §8.4).</summary>
    ContentEncoding,
}

internal static class KnownFields
{
    public static KnownField Identify(ReadOnlySpan<byte> name) => name.Length switch
    {
        2 when Ascii.EqualsIgnoreCase(name, "TE"u8) => KnownField.TE,
        4 when Ascii.EqualsIgnoreCase(name, "Host"u8) => KnownField.Host,
        6 when Ascii.EqualsIgnoreCase(name, "Expect"u8) => KnownField.Expect,
        7 when Ascii.EqualsIgnoreCase(name, "Upgrade"u8) => KnownField.Upgrade,
        7 when Ascii.EqualsIgnoreCase(name, "Trailer"u8) => KnownField.Trailer,
        8 when Ascii.EqualsIgnoreCase(name, "Location"u8) => KnownField.Location,
        10 when Ascii.EqualsIgnoreCase(name, "Connection"u8) => KnownField.Connection,
        10 when Ascii.EqualsIgnoreCase(name, "Keep-Alive"u8) => KnownField.KeepAlive,
        12 when Ascii.EqualsIgnoreCase(name, "Content-Type"u8) => KnownField.ContentType,
        14 when Ascii.EqualsIgnoreCase(name, "Content-Length"u8) => KnownField.ContentLength,
        16 when Ascii.EqualsIgnoreCase(name, "Content-Encoding"u8) => KnownField.ContentEncoding,
        17 when Ascii.EqualsIgnoreCase(name, "Transfer-Encoding"u8) => KnownField.TransferEncoding,
        _ => KnownField.Other,
    };

    public static string? CanonicalName(KnownField field) => field switch
    {
        KnownField.Host => "Host",
        KnownField.ContentLength => "Content-Length",
        KnownField.TransferEncoding => "Transfer-Encoding",
        KnownField.Connection => "Connection",
        KnownField.Expect => "Expect",
        KnownField.KeepAlive => "Keep-Alive",
        KnownField.ContentType => "Content-Type",
        KnownField.Upgrade => "Upgrade",
        KnownField.Trailer => "Trailer",
        KnownField.TE => "TE",
        KnownField.Location => "Location",
        KnownField.ContentEncoding => "Content-Encoding",
        _ => null,
    };
}
