using System.Buffers.Text;
using System.Globalization;
using System.Net;

namespace Parley.Server;

/// <summary>What one access log line says about one response.</summary>
internal readonly ref struct AccessLogRecord
{
    public IPAddress? Remote { get; init; }
    public DateTime ArrivedUtc { get; init; }
    /// <summary>Empty when the request line could not be parsed (the line then shows <c>-</c>).</summary>
    public ReadOnlySpan<byte> Method { get; init; }
    public ReadOnlySpan<byte> Target { get; init; }
    public string Protocol { get; init; }
    public int Status { get; init; }
    public long BodyBytes { get; init; }
    public TimeSpan Duration { get; init; }
    public bool HasReferer { get; init; }
    public ReadOnlySpan<byte> Referer { get; init; }
    public bool HasUserAgent { get; init; }
    public ReadOnlySpan<byte> UserAgent { get; init; }
    public long ConnectionId { get; init; }
    public int RequestOnConnection { get; init; }
}

/// <summary>
/// Formats one access log line into bytes, allocating nothing. Bytes a client chose (target, header values)
/// are escaped so that a line stays one line and cannot forge another: in Common and Combined, controls,
/// <c>"</c>, <c>\</c> and bytes above 0x7E as <c>\xHH</c> (as nginx); in JSON as <c>\u00HH</c> (bytes read as Latin-1).
/// </summary>
internal ref struct AccessLogLine(Span<byte> destination)
{
    private readonly Span<byte> _destination = destination;
    private int _length;
    private bool _overflow;

    /// <summary>The line's length with its newline; -1 when it did not fit.</summary>
    public static int Format(AccessLogFormat format, in AccessLogRecord record, Span<byte> destination)
    {
        var line = new AccessLogLine(destination);
        if (format == AccessLogFormat.JsonLines) line.Json(record);
        else line.Common(record, format == AccessLogFormat.Combined);
        line.Byte((byte)'\n');
        return line._overflow ? -1 : line._length;
    }

    private void Common(in AccessLogRecord record, bool combined)
    {
        Address(record.Remote);
        Ascii(" - - [");
        Formatted(record.ArrivedUtc, "dd/MMM/yyyy:HH:mm:ss");
        Ascii(" +0000] \"");
        if (record.Method.IsEmpty)
        {
            Byte((byte)'-');
        }
        else
        {
            Escaped(record.Method);
            Byte((byte)' ');
            Escaped(record.Target);
            Byte((byte)' ');
            Ascii(record.Protocol);
        }
        Ascii("\" ");
        Number(record.Status);
        Byte((byte)' ');
        if (record.BodyBytes > 0) Number(record.BodyBytes);
        else Byte((byte)'-');
        if (!combined) return;
        Ascii(" \"");
        if (record.HasReferer) Escaped(record.Referer);
        else Byte((byte)'-');
        Ascii("\" \"");
        if (record.HasUserAgent) Escaped(record.UserAgent);
        else Byte((byte)'-');
        Byte((byte)'"');
    }

    private void Json(in AccessLogRecord record)
    {
        Ascii("{\"time\":\"");
        Formatted(record.ArrivedUtc, "yyyy-MM-ddTHH:mm:ss.fffZ");
        Ascii("\",\"remote\":");
        if (record.Remote is null)
        {
            Ascii("null");
        }
        else
        {
            Byte((byte)'"');
            Address(record.Remote);
            Byte((byte)'"');
        }
        Ascii(",\"method\":");
        JsonString(record.Method, present: !record.Method.IsEmpty);
        Ascii(",\"target\":");
        JsonString(record.Target, present: !record.Method.IsEmpty);
        Ascii(",\"protocol\":\"");
        Ascii(record.Protocol);
        Ascii("\",\"status\":");
        Number(record.Status);
        Ascii(",\"bytes\":");
        Number(record.BodyBytes);
        Ascii(",\"duration_ms\":");
        Formatted(record.Duration.TotalMilliseconds, "0.###");
        Ascii(",\"referer\":");
        JsonString(record.Referer, record.HasReferer);
        Ascii(",\"user_agent\":");
        JsonString(record.UserAgent, record.HasUserAgent);
        Ascii(",\"connection\":");
        Number(record.ConnectionId);
        Ascii(",\"request_on_connection\":");
        Number(record.RequestOnConnection);
        Byte((byte)'}');
    }

    private void JsonString(ReadOnlySpan<byte> value, bool present)
    {
        if (!present)
        {
            Ascii("null");
            return;
        }
        Byte((byte)'"');
        foreach (byte b in value)
        {
            if (b is (byte)'"' or (byte)'\\')
            {
                Byte((byte)'\\');
                Byte(b);
            }
            else if (b < 0x20 || b > 0x7e)
            {
                Ascii("\\u00");
                Hex(b);
            }
            else
            {
                Byte(b);
            }
        }
        Byte((byte)'"');
    }

    private void Escaped(ReadOnlySpan<byte> value)
    {
        foreach (byte b in value)
        {
            if (b < 0x20 || b > 0x7e || b is (byte)'"' or (byte)'\\')
            {
                Ascii("\\x");
                Hex(b);
            }
            else
            {
                Byte(b);
            }
        }
    }

    private void Hex(byte b)
    {
        const string digits = "0123456789ABCDEF";
        Byte((byte)digits[b >> 4]);
        Byte((byte)digits[b & 0xF]);
    }

    private void Address(IPAddress? address)
    {
        if (address is null)
        {
            Byte((byte)'-');
            return;
        }
        // A dual-mode listener reports IPv4 clients as ::ffff:a.b.c.d; logs show them as IPv4.
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (!address.TryFormat(Free, out int written)) _overflow = true;
        else _length += written;
    }

    private void Number(long value)
    {
        if (!Utf8Formatter.TryFormat(value, Free, out int written)) _overflow = true;
        else _length += written;
    }

    private void Formatted<T>(T value, string format) where T : IUtf8SpanFormattable
    {
        if (!value.TryFormat(Free, out int written, format, CultureInfo.InvariantCulture)) _overflow = true;
        else _length += written;
    }

    private void Ascii(string text)
    {
        foreach (char c in text) Byte((byte)c);
    }

    private void Byte(byte b)
    {
        if (_length < _destination.Length) _destination[_length++] = b;
        else _overflow = true;
    }

    private readonly Span<byte> Free => _overflow ? [] : _destination[_length..];
}
