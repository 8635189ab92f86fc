using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Hosting.Server;
using Parley.Server;

namespace Parley.AspNetCore;

/// <summary>
/// The engine's handler for an ASP.NET Core application: each request takes a pooled
/// <see cref="RequestFeatures{TContext}"/>, runs the application on it, settles the response, and gives
/// the object back only when the application's task, its completion callbacks and the hosting layer's
/// disposal are all done, so a context is never reused while the application still runs on it.
/// </summary>
internal sealed class ApplicationRunner<TContext> where TContext : notnull
{
    private readonly IHttpApplication<TContext> _application;
    private readonly ServerContext _server;
    private readonly Stack<RequestFeatures<TContext>> _pool = new();
    private readonly int _maxPooled;
    private SpinLock _poolLock = new(enableThreadOwnerTracking: false);

    public ApplicationRunner(IHttpApplication<TContext> application, ServerContext server, int maxPooled)
    {
        _application = application;
        _server = server;
        _maxPooled = maxPooled;
        Handler = HandleAsync;
    }

    /// <summary>The handler to give the engine (one delegate for every request).</summary>
    public RequestHandler Handler { get; }

    private ValueTask HandleAsync(HttpRequest request, HttpResponse response)
    {
        RequestFeatures<TContext> features = Rent();
        features.Bind(request, response);
        TContext context;
        try
        {
            context = _application.CreateContext(features);
        }
        catch
        {
            Return(features);
            throw;
        }
        Task processing;
        try
        {
            processing = _application.ProcessRequestAsync(context);
        }
        catch (Exception ex)
        {
            processing = Task.FromException(ex);
        }
        // An application that answered synchronously (most endpoints writing a small body) is finished here
        // without a state machine.
        if (processing.IsCompletedSuccessfully && !features.HasCompletedCallbacks)
        {
            ValueTask ended = features.EndAsync(null);
            if (ended.IsCompletedSuccessfully)
            {
                ended.GetAwaiter().GetResult();
                _application.DisposeContext(context, null);
                Return(features);
                return default;
            }
            return FinishAsync(features, context, Task.CompletedTask, ended);
        }
        return FinishAsync(features, context, processing, null);
    }

    // Pooled: an application that goes asynchronous does so on every request.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask FinishAsync(RequestFeatures<TContext> features, TContext context, Task processing, ValueTask? ending)
    {
        Exception? error = null;
        try
        {
            await processing.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            error = ex;
        }
        try
        {
            // The end started synchronously is awaited; otherwise it starts now, with the application's outcome.
            await (ending ?? features.EndAsync(error)).ConfigureAwait(false);
            await features.RunOnCompletedAsync().ConfigureAwait(false);
        }
        finally
        {
            _application.DisposeContext(context, error);
            Return(features);
        }
    }

    private RequestFeatures<TContext> Rent()
    {
        bool taken = false;
        try
        {
            _poolLock.Enter(ref taken);
            if (_pool.TryPop(out RequestFeatures<TContext>? features)) return features;
        }
        finally
        {
            if (taken) _poolLock.Exit(useMemoryBarrier: false);
        }
        return new RequestFeatures<TContext>(_server);
    }

    private void Return(RequestFeatures<TContext> features)
    {
        features.Unbind();
        bool taken = false;
        try
        {
            _poolLock.Enter(ref taken);
            if (_pool.Count < _maxPooled) _pool.Push(features);
        }
        finally
        {
            if (taken) _poolLock.Exit(useMemoryBarrier: false);
        }
    }
}
