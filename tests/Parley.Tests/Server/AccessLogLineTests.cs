using System.Net;
using System.Text;
using Parley.Server;

namespace Parley.Tests.Server;

/// <summary>
/// <see cref="AccessLogLine"/> on its own: the exact bytes of lines without a request line or a client
/// address, the edges of the escaped range, addresses as logged, and a destination one byte too short
/// for any line making it refuse the line whole.
/// </summary>
public class AccessLogLineTests
{
    private static readonly DateTime Arrived = new(2026, 2, 3, 4, 5, 6, 789, DateTimeKind.Utc);

    private static string Format(AccessLogFormat format, in AccessLogRecord record)
    {
        var buffer = new byte[1024];
        int length = AccessLogLine.Format(format, record, buffer);
        Assert.True(length > 0);
        return Encoding.Latin1.GetString(buffer, 0, length);
    }

    [Fact]
    public void A_request_line_that_could_not_be_parsed_and_an_unknown_client_are_logged_as_dashes_or_null()
    {
        var record = new AccessLogRecord { Remote = null, ArrivedUtc = Arrived, Protocol = "HTTP/1.1", Status = 400, BodyBytes = 0, ConnectionId = 7, RequestOnConnection = 1 };
        Assert.Equal("- - - [03/Feb/2026:04:05:06 +0000] \"-\" 400 -\n", Format(AccessLogFormat.Common, record));
        Assert.Equal("- - - [03/Feb/2026:04:05:06 +0000] \"-\" 400 - \"-\" \"-\"\n", Format(AccessLogFormat.Combined, record));
        Assert.Equal(
            "{\"time\":\"2026-02-03T04:05:06.789Z\",\"remote\":null,\"method\":null,\"target\":null,\"protocol\":\"HTTP/1.1\",\"status\":400,\"bytes\":0," +
            "\"duration_ms\":0,\"referer\":null,\"user_agent\":null,\"connection\":7,\"request_on_connection\":1}\n",
            Format(AccessLogFormat.JsonLines, record));
    }

    [Fact]
    public void A_tilde_is_kept_and_DEL_is_escaped_and_IPv4_mapped_clients_show_as_IPv4_while_IPv6_stays_IPv6()
    {
        byte[] target = "/~a\x7F"u8.ToArray();
        byte[] agent = [(byte)'~', 0x7F, 0xFF];
        var record = new AccessLogRecord
        {
            Remote = IPAddress.Parse("::ffff:192.0.2.1"), ArrivedUtc = Arrived, Method = "GET"u8, Target = target, Protocol = "HTTP/1.1",
            Status = 200, BodyBytes = 12, Duration = TimeSpan.FromMilliseconds(1.5), HasUserAgent = true, UserAgent = agent,
            ConnectionId = 1, RequestOnConnection = 2,
        };
        Assert.Equal("192.0.2.1 - - [03/Feb/2026:04:05:06 +0000] \"GET /~a\\x7F HTTP/1.1\" 200 12 \"-\" \"~\\x7F\\xFF\"\n", Format(AccessLogFormat.Combined, record));
        Assert.Equal(
            "{\"time\":\"2026-02-03T04:05:06.789Z\",\"remote\":\"192.0.2.1\",\"method\":\"GET\",\"target\":\"/~a\\u007F\",\"protocol\":\"HTTP/1.1\",\"status\":200,\"bytes\":12," +
            "\"duration_ms\":1.5,\"referer\":null,\"user_agent\":\"~\\u007F\\u00FF\",\"connection\":1,\"request_on_connection\":2}\n",
            Format(AccessLogFormat.JsonLines, record));

        var v6 = new AccessLogRecord { Remote = IPAddress.IPv6Loopback, ArrivedUtc = Arrived, Protocol = "HTTP/1.1", Status = 400 };
        Assert.Equal("::1 - - [03/Feb/2026:04:05:06 +0000] \"-\" 400 -\n", Format(AccessLogFormat.Common, v6));
    }

    public static TheoryData<AccessLogFormat, int> Records()
    {
        var data = new TheoryData<AccessLogFormat, int>();
        foreach (AccessLogFormat format in Enum.GetValues<AccessLogFormat>())
        {
            for (int i = 0; i < 3; i++) data.Add(format, i);
        }
        return data;
    }

    private static AccessLogRecord Record(int which) => which switch
    {
        // A long address and a long body count just before short tails: skipping either would leave room for the rest.
        0 => new AccessLogRecord
        {
            Remote = new IPAddress(Enumerable.Repeat((byte)0xFF, 16).ToArray(), 4294967295), ArrivedUtc = Arrived,
            Protocol = "HTTP/1.1", Status = 400,
        },
        1 => new AccessLogRecord
        {
            Remote = IPAddress.Loopback, ArrivedUtc = Arrived, Method = "GET"u8, Target = "/"u8, Protocol = "HTTP/1.1",
            Status = 200, BodyBytes = 1234567890123, Duration = TimeSpan.FromMilliseconds(123456.789),
        },
        _ => new AccessLogRecord { Remote = null, ArrivedUtc = Arrived, Protocol = "HTTP/1.0", Status = 503 },
    };

    [Theory]
    [MemberData(nameof(Records))]
    public void A_line_that_does_not_fit_is_refused_whole_however_short_the_destination_falls(AccessLogFormat format, int which)
    {
        AccessLogRecord record = Record(which);
        var full = new byte[1024];
        int length = AccessLogLine.Format(format, record, full);
        Assert.True(length > 0);
        Assert.Equal((byte)'\n', full[length - 1]);
        Assert.Equal(length, AccessLogLine.Format(format, record, new byte[length]));
        for (int size = 0; size < length; size++)
        {
            Assert.True(AccessLogLine.Format(format, record, new byte[size]) == -1, $"{format} record {which} in {size} bytes");
        }
    }
}
