using Microsoft.Win32.SafeHandles;
using Parley.Server.Transport;

namespace Parley.Server;

/// <summary>
/// Writes an access log line per response (<see cref="AccessLogFormat"/>) to a file or a stream, off the
/// request path: a response appends its line to a memory buffer (formatting it there, allocating nothing)
/// and a thread of the writer's own writes the buffer out. A disk that is slow or stuck therefore never
/// holds a request up; when the buffer is full, lines are dropped and counted
/// (<see cref="DroppedLines"/>, and the <c>parley.server.access_log.dropped</c> counter of the
/// <c>Parley.Server</c> meter). Set it as <see cref="HttpServerOptions.AccessLogWriter"/>; one writer may
/// serve several servers. Dispose it after the servers have stopped: what is buffered is written first.
/// </summary>
public sealed class AccessLogWriter : IDisposable
{
    /// <summary>The default <see cref="BufferSize"/>: 1 MiB, some 5,000 lines.</summary>
    public const int DefaultBufferSize = 1 << 20;

    private readonly object _lock = new();
    private readonly string? _path;
    private readonly Thread _thread;
    // One of the two: a file opened for appending, or a stream.
    private SafeFileHandle? _file;
    private readonly Stream? _stream;
    // Lines are appended to _filling while the writer thread writes _writing out; they swap places.
    private byte[] _filling;
    private byte[] _writing;
    private int _filled;
    private bool _writerWaiting;
    private bool _reopenRequested;
    private bool _disposed;
    private long _written;
    private long _dropped;

    /// <summary>Appends to the file at <paramref name="path"/> (created when missing); <see cref="Reopen"/> opens it again after a rotation.</summary>
    /// <exception cref="IOException">The file cannot be opened for appending.</exception>
    /// <exception cref="UnauthorizedAccessException">The file cannot be opened for appending.</exception>
    public AccessLogWriter(AccessLogFormat format, string path, int bufferSize = DefaultBufferSize)
        : this(format, null, bufferSize, path)
    {
    }

    /// <summary>Writes to <paramref name="stream"/> (standard output, say), which the writer disposes.</summary>
    public AccessLogWriter(AccessLogFormat format, Stream stream, int bufferSize = DefaultBufferSize)
        : this(format, stream ?? throw new ArgumentNullException(nameof(stream)), bufferSize, null)
    {
    }

    private AccessLogWriter(AccessLogFormat format, Stream? stream, int bufferSize, string? path)
    {
        if (!Enum.IsDefined(format)) throw new ArgumentOutOfRangeException(nameof(format));
        // Twice the buffer is held: one half fills while the other is written.
        ArgumentOutOfRangeException.ThrowIfLessThan(bufferSize, 4096);
        Format = format;
        _stream = stream;
        _path = path;
        if (path is not null) _file = OpenAppend(path);
        BufferSize = bufferSize;
        _filling = new byte[bufferSize / 2];
        _writing = new byte[bufferSize / 2];
        _thread = new Thread(WriteLoop) { IsBackground = true, Name = "parley-access-log" };
        _thread.Start();
    }

    /// <summary>The line format.</summary>
    public AccessLogFormat Format { get; }

    /// <summary>Bytes of lines held in memory at most (half filling while the other half is written); beyond them lines are dropped.</summary>
    public int BufferSize { get; }

    /// <summary>Lines handed to the file or stream so far.</summary>
    public long WrittenLines => Interlocked.Read(ref _written);

    /// <summary>Lines dropped so far because the buffer was full (the file or stream did not keep up), or the writer was disposed.</summary>
    public long DroppedLines => Interlocked.Read(ref _dropped);

    /// <summary>
    /// Called when writing or reopening fails (the writer carries on with what it has); default writes to standard
    /// error. An exception it throws is written to standard error with the line it was given.
    /// </summary>
    public Action<string, Exception?>? ErrorLog { get; set; } = static (message, exception) =>
        Console.Error.WriteLine(exception is null ? message : $"{message}: {exception.Message}");

    /// <summary>
    /// After a log rotation has renamed the file (logrotate, say; the usual trigger is SIGHUP): lines
    /// buffered so far go to the renamed file, later ones to a new file at the path. Returns at once;
    /// does nothing for a writer on a stream.
    /// </summary>
    public void Reopen()
    {
        if (_path is null) return;
        lock (_lock)
        {
            _reopenRequested = true;
            if (_writerWaiting) Monitor.Pulse(_lock);
        }
    }

    /// <summary>Appends one line; false when it was dropped.</summary>
    internal bool Append(in AccessLogRecord record)
    {
        lock (_lock)
        {
            int length = _disposed ? -1 : AccessLogLine.Format(Format, record, _filling.AsSpan(_filled));
            if (length < 0)
            {
                _dropped++;
                if (ServerTelemetry.AccessLogDropped.Enabled) ServerTelemetry.AccessLogDropped.Add(1);
                return false;
            }
            _filled += length;
            if (_writerWaiting) Monitor.Pulse(_lock);
            return true;
        }
    }

    /// <summary>Writes what is buffered, then closes the file or stream.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed) return;
            _disposed = true;
            Monitor.Pulse(_lock);
        }
        _thread.Join();
    }

    private void WriteLoop()
    {
        while (true)
        {
            byte[] batch;
            int length;
            bool reopen;
            bool last;
            lock (_lock)
            {
                while (_filled == 0 && !_reopenRequested && !_disposed)
                {
                    _writerWaiting = true;
                    Monitor.Wait(_lock);
                    _writerWaiting = false;
                }
                (batch, _writing, _filling) = (_filling, _filling, _writing);
                length = _filled;
                _filled = 0;
                reopen = _reopenRequested;
                _reopenRequested = false;
                last = _disposed;
            }
            if (length > 0) WriteBatch(batch, length);
            if (reopen) ReopenFile();
            if (last)
            {
                _stream?.Dispose();
                _file?.Dispose();
                return;
            }
        }
    }

    private void WriteBatch(byte[] batch, int length)
    {
        int lines = batch.AsSpan(0, length).Count((byte)'\n');
        try
        {
            if (_file is not null)
            {
                // On Linux pwrite(2) to a descriptor opened with O_APPEND appends whatever the offset says.
                RandomAccess.Write(_file, batch.AsSpan(0, length), OperatingSystem.IsLinux() ? 0 : RandomAccess.GetLength(_file));
            }
            else
            {
                _stream!.Write(batch, 0, length);
                _stream.Flush();
            }
            Interlocked.Add(ref _written, lines);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or NotSupportedException or UnauthorizedAccessException)
        {
            Interlocked.Add(ref _dropped, lines);
            if (ServerTelemetry.AccessLogDropped.Enabled) ServerTelemetry.AccessLogDropped.Add(lines);
            ErrorLog.Report($"access log: writing {lines} lines failed", ex);
        }
    }

    private void ReopenFile()
    {
        SafeFileHandle reopened;
        try
        {
            reopened = OpenAppend(_path!);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            ErrorLog.Report($"access log: cannot reopen {_path}; still writing to the file opened before", ex);
            return;
        }
        _file!.Dispose();
        _file = reopened;
    }

    // Each batch is written whole with O_APPEND, so that several processes (parley serve --workers) append
    // to one file without overwriting each other's lines. FileStream's Append mode does not open with
    // O_APPEND (it writes at the offset it keeps), hence open(2) on Linux.
    private static SafeFileHandle OpenAppend(string path) => OperatingSystem.IsLinux()
        ? LinuxNative.OpenAppend(path)
        : File.OpenHandle(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
}
