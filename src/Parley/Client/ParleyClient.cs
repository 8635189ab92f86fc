using System.Diagnostics;
using System.Runtime.CompilerServices;
using Parley.Http1;

namespace Parley.Client;

/// <summary>
/// An HTTP/1.1 client: pooled keep-alive connections per origin, strict parsing of responses (the same
/// <c>Http1</c> code as the server), timeouts and cancellation on every wait, opt-in redirects and
/// decompression, and a session trace through <see cref="ISessionObserver"/>. Thread-safe; share one
/// instance. Policy (redirects, retries) lives here; the mechanism of one exchange is the connection's.
/// </summary>
public sealed class ParleyClient : IDisposable
{
    private readonly ConnectionPool _pool;

    /// <summary>Creates a client with the given options (defaults when null).</summary>
    public ParleyClient(ParleyClientOptions? options = null)
    {
        Options = options ?? new ParleyClientOptions();
        _pool = new ConnectionPool(Options);
    }

    /// <summary>The options this client was created with.</summary>
    public ParleyClientOptions Options { get; }

    /// <summary>Open connections (busy and idle) across all origins.</summary>
    public int ConnectionCount => _pool.ConnectionCount;

    /// <summary>Idle pooled connections to the origin of <paramref name="uri"/>.</summary>
    public int IdleConnectionCount(Uri uri) => _pool.IdleCount(uri);

    /// <summary>Sends a GET and returns the response (body not yet read).</summary>
    public ValueTask<ParleyResponse> GetAsync(string url, CancellationToken cancellationToken = default) =>
        SendAsync(ParleyRequest.Get(url), cancellationToken);

    /// <summary>Sends a GET and returns the body as text; throws for a status of 400 or more.</summary>
    public async ValueTask<string> GetStringAsync(string url, CancellationToken cancellationToken = default)
    {
        using ParleyResponse response = await GetAsync(url, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode >= 400)
        {
            throw new InvalidOperationException($"GET {url} answered {response.StatusCode} {response.ReasonPhrase}");
        }
        return await response.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Sends <paramref name="request"/> and returns once the final response head arrived (following
    /// redirects when enabled). Throws <see cref="ParleyHttpException"/> for connection, timeout and
    /// protocol failures, <see cref="OperationCanceledException"/> when canceled.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<ParleyResponse> SendAsync(ParleyRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        long deadline = Options.RequestTimeout == Timeout.InfiniteTimeSpan
            ? long.MaxValue
            : Environment.TickCount64 + (long)Options.RequestTimeout.TotalMilliseconds;
        ISessionObserver? observer = request.Observer ?? Options.Observer;
        bool followRedirects = request.FollowRedirects ?? Options.FollowRedirects;

        ParleyResponse response = await SendWithRetryAsync(request, observer, deadline, cancellationToken).ConfigureAwait(false);
        if (!followRedirects || !Redirects.IsRedirect(response.StatusCode)) return response;

        var visited = new HashSet<string>(StringComparer.Ordinal) { Redirects.Key(request.Method, request.Uri) };
        ParleyRequest current = request;
        int hops = 0;
        while (Redirects.IsRedirect(response.StatusCode))
        {
            ParleyRequest? next = Redirects.Next(current, response);
            if (next is null)
            {
                // Not followable (no usable Location, or a body that cannot be sent again): the 3xx is the answer.
                return response;
            }
            if (++hops > Options.MaxRedirects)
            {
                response.Dispose();
                throw new ParleyHttpException(ParleyErrorKind.TooManyRedirects,
                    $"too many redirects: more than {Options.MaxRedirects} starting from {request.Uri} (last: {current.Uri} -> {next.Uri})");
            }
            if (!visited.Add(Redirects.Key(next.Method, next.Uri)))
            {
                response.Dispose();
                throw new ParleyHttpException(ParleyErrorKind.RedirectLoop,
                    $"redirect loop: {current.Uri} answered {response.StatusCode} to {next.Uri}, which was already requested");
            }
            await DrainAsync(response, cancellationToken).ConfigureAwait(false);
            observer?.OnEvent(new SessionEvent
            {
                Kind = SessionEventKind.Redirecting, Timestamp = Stopwatch.GetTimestamp(), Uri = next.Uri, StatusCode = response.StatusCode,
            });
            current = next;
            response = await SendWithRetryAsync(current, observer, deadline, cancellationToken).ConfigureAwait(false);
            response.RedirectCount = hops;
        }
        return response;
    }

    /// <summary>
    /// One exchange. RFC 9110 §9.2.2 and RFC 9112 §9.3.1: an idempotent request that fails on a reused
    /// connection before any response byte (the server closed it while idle) is retried once on a new one.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<ParleyResponse> SendWithRetryAsync(ParleyRequest request, ISessionObserver? observer,
        long deadline, CancellationToken cancellationToken)
    {
        Origin origin = Origin.Of(request.Uri);
        ParleyHeaders? headers = request.HeadersIfAny;
        bool acceptEncoding = Options.AutomaticDecompression && headers?.Contains("Accept-Encoding") != true;
        ClientRequestTelemetry telemetry = ClientRequestTelemetry.Begin(request, origin);
        ParleyResponse response;
        try
        {
            ClientConnection connection = await _pool.RentAsync(origin, false, request.Uri, observer, deadline, cancellationToken).ConfigureAwait(false);
            bool reused = connection.RequestCount > 0;
            try
            {
                response = await connection.SendAsync(request, headers, acceptEncoding, telemetry.Activity, observer, deadline, cancellationToken).ConfigureAwait(false);
            }
            catch (ParleyHttpException ex) when (reused && ex.BeforeResponse && ParleyRequest.IsIdempotent(request.Method)
                && (request.Content is null || request.Content.IsReplayable))
            {
                observer?.OnEvent(new SessionEvent { Kind = SessionEventKind.Retrying, Timestamp = Stopwatch.GetTimestamp(), Uri = request.Uri });
                connection = await _pool.RentAsync(origin, true, request.Uri, observer, deadline, cancellationToken).ConfigureAwait(false);
                response = await connection.SendAsync(request, headers, acceptEncoding, telemetry.Activity, observer, deadline, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            telemetry.End(null, ex);
            throw;
        }
        telemetry.End(response, null);
        if (acceptEncoding) response.EnableDecoding();
        return response;
    }

    private static async ValueTask DrainAsync(ParleyResponse response, CancellationToken cancellationToken)
    {
        // A short redirect body is read so the connection can be reused; a long one is not worth it.
        if (response.IsStreaming && (response.ContentLength is null or > 64 * 1024))
        {
            response.Dispose();
            return;
        }
        response.KeepContentEncoding();
        await response.Body.CopyToAsync(Stream.Null, cancellationToken).ConfigureAwait(false);
        response.Dispose();
    }

    /// <summary>Closes idle connections and stops the timeout timer.</summary>
    public void Dispose() => _pool.Dispose();
}
