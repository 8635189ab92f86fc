using System.Text;
using Parley.Server;

namespace Parley.Tests.Server;

/// <summary>
/// <see cref="AccessLogWriter"/> on a stream, without a server: its arguments checked, its thread, each
/// batch written then flushed, the stream disposed with it, lines after disposal dropped, and a stream
/// that fails counted as dropped and reported.
/// </summary>
public class AccessLogWriterTests
{
    private static bool AppendLine(AccessLogWriter writer) => writer.Append(new AccessLogRecord
    {
        ArrivedUtc = new DateTime(2026, 2, 3, 4, 5, 6, DateTimeKind.Utc), Method = "GET"u8, Target = "/"u8, Protocol = "HTTP/1.1", Status = 200,
    });

    private const string Line = "- - - [03/Feb/2026:04:05:06 +0000] \"GET / HTTP/1.1\" 200 -\n";

    [Fact]
    public void A_path_in_a_missing_directory_fails_with_an_IOException_naming_the_path()
    {
        string path = Path.Combine(Path.GetTempPath(), $"parley-missing-{Guid.NewGuid():N}", "access.log");
        // Exactly IOException: permission denied is the only failure reported as UnauthorizedAccessException.
        IOException error = Assert.Throws<IOException>(() => new AccessLogWriter(AccessLogFormat.Common, path));
        Assert.Contains(path, error.Message);
    }

    [Fact]
    public void A_path_that_may_not_be_written_fails_with_UnauthorizedAccessException_naming_the_path()
    {
        // A read-only sysctl refuses writing with EACCES even to root (proc_sys_permission), unlike a chmod'ed file.
        const string path = "/proc/sys/kernel/osrelease";
        if (!OperatingSystem.IsLinux() || !File.Exists(path)) return;
        var error = Assert.Throws<UnauthorizedAccessException>(() => new AccessLogWriter(AccessLogFormat.Common, path));
        Assert.Contains(path, error.Message);
    }

    [Fact]
    public void A_file_writer_closes_its_file_when_disposed()
    {
        string path = Path.Combine(Path.GetTempPath(), $"parley-access-{Guid.NewGuid():N}.log");
        try
        {
            var writer = new AccessLogWriter(AccessLogFormat.Common, path);
            Assert.True(AppendLine(writer));
            Assert.Equal(1, OpenDescriptors(path));
            writer.Dispose();
            Assert.Equal(Line, File.ReadAllText(path));
            Assert.Equal(0, OpenDescriptors(path));
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static int OpenDescriptors(string path) => Directory.GetFiles("/proc/self/fd")
        .Count(fd => { try { return new FileInfo(fd).LinkTarget == path; } catch (IOException) { return false; } });

    [Fact]
    public void An_unknown_format_or_a_buffer_under_4_KiB_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new AccessLogWriter((AccessLogFormat)99, new RecordingStream()));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AccessLogWriter(AccessLogFormat.Common, new RecordingStream(), bufferSize: 4095));
        using var writer = new AccessLogWriter(AccessLogFormat.Common, new RecordingStream(), bufferSize: 4096);
        Assert.Equal(4096, writer.BufferSize);
    }

    [Fact]
    public void Lines_are_written_and_flushed_on_a_named_background_thread_and_the_stream_is_disposed_with_the_writer()
    {
        var stream = new RecordingStream();
        var writer = new AccessLogWriter(AccessLogFormat.Common, stream);
        Assert.True(AppendLine(writer));
        writer.Reopen(); // does nothing on a stream
        Assert.True(AppendLine(writer));
        writer.Dispose();

        Assert.Equal(Line + Line, Encoding.ASCII.GetString(stream.Written.ToArray()));
        Assert.Equal(2, writer.WrittenLines);
        Assert.Equal(0, writer.DroppedLines);
        Assert.All(stream.Calls, call => Assert.Equal(("parley-access-log", true), (call.Thread, call.Background)));
        Assert.DoesNotContain(stream.Calls, call => call.Count == 0);
        Assert.Equal("flush", stream.Calls[^1].Kind);
        for (int i = 0; i < stream.Calls.Count; i += 2) Assert.Equal(("write", "flush"), (stream.Calls[i].Kind, stream.Calls[i + 1].Kind));
        Assert.True(stream.Disposed);

        Assert.False(AppendLine(writer));
        Assert.Equal(1, writer.DroppedLines);
        writer.Dispose();
    }

    [Fact]
    public void A_writer_with_nothing_buffered_writes_nothing_when_disposed()
    {
        var stream = new RecordingStream();
        new AccessLogWriter(AccessLogFormat.JsonLines, stream).Dispose();
        Assert.Empty(stream.Calls);
        Assert.True(stream.Disposed);
    }

    public static TheoryData<Exception> Failures() =>
        [new IOException("disk full"), new ObjectDisposedException("log"), new NotSupportedException("no"), new UnauthorizedAccessException("denied")];

    [Theory]
    [MemberData(nameof(Failures))]
    public void A_write_that_fails_counts_its_lines_as_dropped_and_is_reported(Exception failure)
    {
        var stream = new RecordingStream { Failure = failure };
        var reported = new List<(string, Exception?)>();
        var writer = new AccessLogWriter(AccessLogFormat.Common, stream) { ErrorLog = (message, exception) => { lock (reported) reported.Add((message, exception)); } };
        Assert.True(AppendLine(writer));
        writer.Dispose();
        Assert.Equal(0, writer.WrittenLines);
        Assert.Equal(1, writer.DroppedLines);
        Assert.Equal(("access log: writing 1 lines failed", failure), Assert.Single(reported));
    }

    private sealed class RecordingStream : WriteOnlyTestStream
    {
        public MemoryStream Written { get; } = new();
        public List<(string Kind, int Count, string? Thread, bool Background)> Calls { get; } = [];
        public Exception? Failure { get; init; }
        public bool Disposed { get; private set; }

        public override void Write(byte[] buffer, int offset, int count)
        {
            Calls.Add(("write", count, Thread.CurrentThread.Name, Thread.CurrentThread.IsBackground));
            if (Failure is not null) throw Failure;
            Written.Write(buffer, offset, count);
        }

        public override void Flush() => Calls.Add(("flush", -1, Thread.CurrentThread.Name, Thread.CurrentThread.IsBackground));

        protected override void Dispose(bool disposing)
        {
            Disposed = true;
            base.Dispose(disposing);
        }
    }
}
