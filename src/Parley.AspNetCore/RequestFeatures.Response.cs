using System.Globalization;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Primitives;
using Microsoft.Win32.SafeHandles;
using EngineResponseType = Parley.Server.HttpResponse;

namespace Parley.AspNetCore;

// The response side: status and headers until the response starts, then the body through the engine.
internal abstract partial class RequestFeatures : IHttpResponseFeature, IHttpResponseBodyFeature
{
    private readonly HeaderDictionary _responseHeaders = new();
    private readonly ResponseBodyStream _responseStream;
    private readonly ResponsePipeWriter _responseWriter;
    private IHeaderDictionary? _responseHeadersSet;
    private Stream? _responseBodySet;
    private int _statusCode;
    private string? _reasonPhrase;
    private bool _hasStarted;
    private bool _bodyCompleted;
    // Run last-registered first, as Kestrel does.
    private readonly Stack<KeyValuePair<Func<object, Task>, object>> _onStarting = new();
    private readonly Stack<KeyValuePair<Func<object, Task>, object>> _onCompleted = new();

    private IHeaderDictionary CurrentResponseHeaders => _responseHeadersSet ?? _responseHeaders;

    internal bool HasCompletedCallbacks => _onCompleted.Count > 0;

    private void ResetResponse()
    {
        _responseHeaders.IsReadOnly = false;
        _responseHeaders.Clear();
        _responseHeadersSet = null;
        _responseBodySet = null;
        _statusCode = 200;
        _reasonPhrase = null;
        _hasStarted = false;
        _bodyCompleted = false;
        _onStarting.Clear();
        _onCompleted.Clear();
        IsAborted = false;
        _bodyBytesRead = 0;
        _responseWriter.Reset();
        ResetTrailers();
    }

    private void ReleaseResponse()
    {
        _onStarting.Clear();
        _onCompleted.Clear();
        _responseWriter.Release();
    }

    // ---- IHttpResponseFeature

    int IHttpResponseFeature.StatusCode
    {
        get => _statusCode;
        set
        {
            if (_hasStarted) throw new InvalidOperationException("StatusCode cannot be set because the response has already started.");
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 100);
            _statusCode = value;
        }
    }

    string? IHttpResponseFeature.ReasonPhrase
    {
        get => _reasonPhrase;
        set
        {
            if (_hasStarted) throw new InvalidOperationException("ReasonPhrase cannot be set because the response has already started.");
            _reasonPhrase = value;
        }
    }

    IHeaderDictionary IHttpResponseFeature.Headers
    {
        get => CurrentResponseHeaders;
        set => _responseHeadersSet = value;
    }

    [Obsolete("Use IHttpResponseBodyFeature.Stream")]
    Stream IHttpResponseFeature.Body
    {
        get => _responseBodySet ?? _responseStream;
        set => _responseBodySet = value;
    }

    bool IHttpResponseFeature.HasStarted => _hasStarted;

    void IHttpResponseFeature.OnStarting(Func<object, Task> callback, object state)
    {
        if (_hasStarted) throw new InvalidOperationException("OnStarting cannot be set because the response has already started.");
        _onStarting.Push(new KeyValuePair<Func<object, Task>, object>(callback, state));
    }

    void IHttpResponseFeature.OnCompleted(Func<object, Task> callback, object state) =>
        _onCompleted.Push(new KeyValuePair<Func<object, Task>, object>(callback, state));

    internal bool HasStarted => _hasStarted;

    // ---- IHttpResponseBodyFeature

    Stream IHttpResponseBodyFeature.Stream => _responseStream;

    PipeWriter IHttpResponseBodyFeature.Writer => _responseWriter;

    // The engine holds back at most one buffer (HttpServerOptions.ResponseBufferSize) before it streams,
    // and sends on every flush; there is nothing more to turn off.
    void IHttpResponseBodyFeature.DisableBuffering()
    {
    }

    Task IHttpResponseBodyFeature.StartAsync(CancellationToken cancellationToken) => StartAsync();

    Task IHttpResponseBodyFeature.SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken) =>
        SendFileAsync(path, offset, count, cancellationToken);

    Task IHttpResponseBodyFeature.CompleteAsync() => CompleteBodyAsync().AsTask();

    /// <summary>Starts the response: runs the OnStarting callbacks, then fixes status and headers.</summary>
    internal Task StartAsync()
    {
        if (_hasStarted) return Task.CompletedTask;
        if (_onStarting.Count > 0) return RunOnStartingThenCommitAsync();
        Commit();
        return Task.CompletedTask;
    }

    private async Task RunOnStartingThenCommitAsync()
    {
        while (_onStarting.TryPop(out KeyValuePair<Func<object, Task>, object> callback))
        {
            await callback.Key(callback.Value).ConfigureAwait(false);
        }
        Commit();
    }

    // Hands status and headers to the engine. The engine owns the framing fields: Content-Length becomes
    // its ContentLength, "Connection: close" its CloseConnection; Transfer-Encoding, Keep-Alive and Date
    // are its own to write (docs/aspnetcore.md).
    private void Commit()
    {
        EngineResponseType response = EngineResponse;
        response.StatusCode = _statusCode;
        CopyHeadersToEngine(response);
    }

    private void CopyHeadersToEngine(EngineResponseType response)
    {
        bool serverSet = false;
        IHeaderDictionary headers = CurrentResponseHeaders;
        // The server's own dictionary is walked with its struct enumerator: through the interface the
        // enumerator would be boxed, an allocation per response.
        if (headers is HeaderDictionary own)
        {
            foreach (KeyValuePair<string, StringValues> field in own) CopyFieldToEngine(response, field.Key, field.Value, ref serverSet);
        }
        else
        {
            foreach (KeyValuePair<string, StringValues> field in headers) CopyFieldToEngine(response, field.Key, field.Value, ref serverSet);
        }
        if (!serverSet && Server.Options.AddServerHeader) response.Headers.Add("Server", "Parley");
        _hasStarted = true;
        _responseHeaders.IsReadOnly = true;
    }

    private static void CopyFieldToEngine(EngineResponseType response, string name, StringValues values, ref bool serverSet)
    {
        if (name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
        {
            if (!long.TryParse(values.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out long length))
            {
                throw new InvalidOperationException($"Invalid Content-Length: \"{values}\". Value must be a positive integral number.");
            }
            response.ContentLength = length;
            return;
        }
        if (name.Equals("Connection", StringComparison.OrdinalIgnoreCase))
        {
            foreach (string? value in values)
            {
                if (value is not null && value.Contains("close", StringComparison.OrdinalIgnoreCase)) response.CloseConnection = true;
            }
            return;
        }
        if (name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase)
            || name.Equals("Keep-Alive", StringComparison.OrdinalIgnoreCase)
            || name.Equals("Date", StringComparison.OrdinalIgnoreCase))
        {
            return;
        }
        if (name.Equals("Server", StringComparison.OrdinalIgnoreCase)) serverSet = true;
        foreach (string? value in values)
        {
            if (value is not null) response.Headers.Add(name, value);
        }
    }

    // ---- Writing the body

    /// <summary>Appends body bytes: starts the response first, and keeps the order with what the PipeWriter holds.</summary>
    internal ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        if (_bodyCompleted) throw new InvalidOperationException("Writing is not allowed after the response body was completed.");
        if (IsAborted) return default; // as Kestrel: writes to an aborted response are dropped
        if (!_hasStarted || _responseWriter.BufferedCount > 0) return StartCommitThenWriteAsync(data, cancellationToken);
        return WriteToEngineAsync(data, cancellationToken);
    }

    // Pooled: a streaming or flushing application comes here on every request.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask StartCommitThenWriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        await StartAsync().ConfigureAwait(false);
        await CommitWriterAsync(cancellationToken).ConfigureAwait(false);
        await WriteToEngineAsync(data, cancellationToken).ConfigureAwait(false);
    }

    private ValueTask WriteToEngineAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        if (data.IsEmpty) return default;
        ValueTask write;
        try
        {
            write = EngineResponse.WriteAsync(data, cancellationToken);
        }
        catch (IOException)
        {
            OnConnectionFailed();
            return default;
        }
        if (write.IsCompletedSuccessfully) return default;
        return AwaitEngineWriteAsync(write);
    }

    // Pooled: a streaming or flushing application comes here on every request.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask AwaitEngineWriteAsync(ValueTask write)
    {
        try
        {
            await write.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or ObjectDisposedException)
        {
            OnConnectionFailed();
        }
    }

    /// <summary>Moves what the PipeWriter holds into the engine's output.</summary>
    internal ValueTask CommitWriterAsync(CancellationToken cancellationToken)
    {
        if (_responseWriter.BufferedCount == 0) return default;
        ReadOnlyMemory<byte> buffered = _responseWriter.Buffered;
        _responseWriter.ClearBuffered();
        return WriteToEngineAsync(buffered, cancellationToken);
    }

    /// <summary>A synchronous write, refused unless <see cref="AllowSynchronousIO"/>.</summary>
    internal void Write(ReadOnlySpan<byte> data)
    {
        if (!AllowSynchronousIO) throw new InvalidOperationException("Synchronous operations are disallowed. Call WriteAsync or set AllowSynchronousIO to true instead.");
        if (_bodyCompleted) throw new InvalidOperationException("Writing is not allowed after the response body was completed.");
        if (IsAborted) return;
        if (!_hasStarted) StartAsync().GetAwaiter().GetResult();
        CommitWriterAsync(default).AsTask().GetAwaiter().GetResult();
        try
        {
            EngineResponse.Write(data);
        }
        catch (IOException)
        {
            OnConnectionFailed();
        }
    }

    /// <summary>Sends what has been written so far, starting the response if needed.</summary>
    // Pooled: a streaming or flushing application comes here on every request.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    internal async ValueTask FlushAsync(CancellationToken cancellationToken, bool now = false)
    {
        if (IsAborted) return;
        await StartAsync().ConfigureAwait(false);
        await CommitWriterAsync(cancellationToken).ConfigureAwait(false);
        if (IsAborted) return;
        try
        {
            // The engine joins a flush made before the application's task returns with the rest of the
            // response; its body stream's synchronous Flush sends at once instead.
            if (now) EngineResponse.Body.Flush();
            else await EngineResponse.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or ObjectDisposedException)
        {
            OnConnectionFailed();
        }
    }

    internal void Flush()
    {
        if (!AllowSynchronousIO) throw new InvalidOperationException("Synchronous operations are disallowed. Call FlushAsync or set AllowSynchronousIO to true instead.");
        // At once, as Kestrel does: an application that flushes synchronously may block its thread next.
        FlushAsync(default, now: true).AsTask().GetAwaiter().GetResult();
    }

    /// <summary>
    /// The body is complete: what the PipeWriter holds goes to the engine, and further writes are refused.
    /// The engine ends the message (its length or last chunk) when the application's task completes.
    /// </summary>
    internal async ValueTask CompleteBodyAsync()
    {
        if (_bodyCompleted) return;
        await StartAsync().ConfigureAwait(false);
        await CommitWriterAsync(default).ConfigureAwait(false);
        _bodyCompleted = true;
        _responseWriter.MarkCompleted();
    }

    // Through the engine's file path: a large region with a known length goes by sendfile(2).
    private async Task SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken)
    {
        await StartAsync().ConfigureAwait(false);
        await CommitWriterAsync(cancellationToken).ConfigureAwait(false);
        using SafeFileHandle file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.Asynchronous | FileOptions.SequentialScan);
        long fileLength = RandomAccess.GetLength(file);
        if (offset < 0 || offset > fileLength) throw new ArgumentOutOfRangeException(nameof(offset), offset, string.Empty);
        long length = count ?? fileLength - offset;
        if (length < 0 || length > fileLength - offset) throw new ArgumentOutOfRangeException(nameof(count), count, string.Empty);
        if (IsAborted) return;
        try
        {
            await EngineResponse.SendFileAsync(file, offset, length, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is System.Net.Sockets.SocketException || (ex is IOException && EngineRequest.Aborted.IsCancellationRequested))
        {
            OnConnectionFailed();
        }
    }

    // ---- After the application

    /// <summary>
    /// Settles the response once the application's task is done: on success the response starts (if it
    /// had not) and the PipeWriter's bytes go out; on failure, a response not yet started becomes a 500
    /// (or the status of a <see cref="BadHttpRequestException"/>) with an empty body, and one already
    /// started is aborted, since its client cannot be told otherwise.
    /// </summary>
    internal ValueTask EndAsync(Exception? error)
    {
        if (error is null)
        {
            if (_hasStarted && _responseWriter.BufferedCount == 0 && !HasReplacedTrailers)
            {
                EndTrailers();
                return default;
            }
            return StartAndCommitAsync();
        }
        EndTrailers();
        OnApplicationError(error);
        return default;
    }

    // Pooled: a streaming or flushing application comes here on every request.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask StartAndCommitAsync()
    {
        try
        {
            await StartAsync().ConfigureAwait(false);
            if (!IsAborted) await CommitWriterAsync(default).ConfigureAwait(false);
            if (!IsAborted) CopyReplacedTrailers();
        }
        catch (Exception ex)
        {
            OnApplicationError(ex);
        }
        finally
        {
            EndTrailers();
        }
    }

    private void OnApplicationError(Exception error)
    {
        bool clientGone = IsAborted || EngineRequest.Aborted.IsCancellationRequested;
        if (!clientGone && error is not BadHttpRequestException)
        {
            Server.Logger.ApplicationError(((IHttpConnectionFeature)this).ConnectionId, ((IHttpRequestIdentifierFeature)this).TraceIdentifier, error);
        }
        if (clientGone) return;
        if (_hasStarted)
        {
            Abort();
            return;
        }
        // Kestrel's answer: the status, no fields of the failed response, an empty body.
        _onStarting.Clear();
        _responseHeadersSet = null;
        _responseHeaders.Clear();
        _responseWriter.ClearBuffered();
        _statusCode = error is BadHttpRequestException bad ? bad.StatusCode : Microsoft.AspNetCore.Http.StatusCodes.Status500InternalServerError;
        _responseHeaders.ContentLength = 0;
        if (error is BadHttpRequestException) ((IHeaderDictionary)_responseHeaders).Connection = "close";
        ClearEngineResponse();
        Commit();
    }

    // A commit that failed half-way (a field value the engine refused) may have left fields in the engine.
    private void ClearEngineResponse()
    {
        EngineResponseType response = EngineResponse;
        if (response.Headers.Count > 0)
        {
            var names = new List<string>(response.Headers.Count);
            foreach (KeyValuePair<string, string> field in response.Headers) names.Add(field.Key);
            foreach (string name in names) response.Headers.Remove(name);
        }
        RemoveEngineTrailers(response);
        response.ContentLength = null;
        response.CloseConnection = false;
    }

    /// <summary>Runs the OnCompleted callbacks, last-registered first; a failing one is logged and the others still run.</summary>
    internal async ValueTask RunOnCompletedAsync()
    {
        while (_onCompleted.TryPop(out KeyValuePair<Func<object, Task>, object> callback))
        {
            try
            {
                await callback.Key(callback.Value).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                Server.Logger.ApplicationError(((IHttpConnectionFeature)this).ConnectionId, ((IHttpRequestIdentifierFeature)this).TraceIdentifier, ex);
            }
        }
    }
}
