using System.Buffers.Binary;
using Parley.Http1;

namespace Parley.Fuzz;

/// <summary>The PROXY protocol header a load balancer sends ahead of a connection.</summary>
public static partial class FuzzTargets
{
    // Feeds the input as the connection does: never more than BytesWanted allows, at most `step` bytes at
    // a time (0: everything at once). Describes the outcome and checks what holds for every arrival.
    private static string FeedProxyHeader(ReadOnlySpan<byte> input, int step)
    {
        int length = step == 0 ? input.Length : 0;
        while (true)
        {
            ParseStatus status = ProxyProtocolParser.Parse(input[..length], out ProxyProtocolHeader? header, out int consumed, out string? reason);
            if (status == ParseStatus.Invalid)
            {
                Check(reason is not null && reason.Contains('§'), "a rejection without the section it breaks");
                return $"invalid {reason}";
            }
            if (status == ParseStatus.Complete)
            {
                Check(header is not null, "complete without a header");
                CheckProxyBounds(input, consumed, header!);
                // Fed as the connection feeds it, the parser never asked for a byte past the header.
                Check(step == 0 || length == consumed, $"received {length} bytes for a header of {consumed}");
                return $"complete {consumed} v{header!.Version} {header.Command} {header.Source} {header.Destination} " +
                    string.Join(",", header.Tlvs.Select(t => $"{t.Type}:{Convert.ToHexString(t.Value.Span)}"));
            }
            int wanted = ProxyProtocolParser.BytesWanted(input[..length]);
            Check(wanted > 0, "more data needed but none wanted");
            if (length == input.Length) return "more";
            length = Math.Min(input.Length, length + (step == 0 ? wanted : Math.Min(wanted, step)));
        }
    }

    private static void CheckProxyBounds(ReadOnlySpan<byte> input, int consumed, ProxyProtocolHeader header)
    {
        if (header.Version == 1)
        {
            Check(consumed <= ProxyProtocolParser.MaxV1Length, $"version 1 header of {consumed} bytes");
            Check(input[consumed - 2] == '\r' && input[consumed - 1] == '\n', "version 1 header not ending in CRLF");
            Check(header.Tlvs.Count == 0, "TLVs in a version 1 header");
            return;
        }
        // Version 2: exactly the fixed part and the declared length, never more than 16 + 65535.
        int declared = BinaryPrimitives.ReadUInt16BigEndian(input[14..]);
        Check(consumed == ProxyProtocolParser.V2FixedLength + declared, $"version 2 header of {consumed} bytes declared {declared}");
        Check(consumed <= ProxyProtocolParser.V2FixedLength + ushort.MaxValue, "version 2 header past its largest length");
        if (header.Command == ProxyProtocolCommand.Local)
        {
            Check(header.Source is null && header.Tlvs.Count == 0, "LOCAL kept the block");
            return;
        }
        int family = input[13] >> 4;
        int addressLength = family switch { 1 => 12, 2 => 36, 3 => 216, _ => 0 };
        int tlvBytes = header.Tlvs.Sum(t => 3 + t.Value.Length);
        Check(addressLength + tlvBytes == declared, $"address ({addressLength}) and TLVs ({tlvBytes}) do not fill the declared {declared} bytes");
        Check(header.Source is null || family is 1 or 2, "a source address from a family without one");
    }

    private static void ProxyProtocol(ReadOnlySpan<byte> data)
    {
        string whole = FeedProxyHeader(data, 0);
        foreach (int step in new[] { 1, 2, 3, 7, 64 })
        {
            string stepped = FeedProxyHeader(data, step);
            Check(stepped == whole, $"fed {step} bytes at a time: '{stepped}' but whole: '{whole}'");
        }
    }
}
