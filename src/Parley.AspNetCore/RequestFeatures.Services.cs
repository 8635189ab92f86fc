using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Parley.AspNetCore;

// HttpContext.RequestServices, offered by the request object itself: otherwise the hosting layer's
// HttpContext adds a RequestServicesFeature to every request that touches its services (routing and the
// endpoint results do). It behaves as that one does: the request's scope is made when first asked for, its
// disposal is registered as an OnCompleted callback at that moment (so it runs in the same order among the
// application's callbacks), and an application may set its own provider instead.
internal abstract partial class RequestFeatures : IServiceProvidersFeature
{
    private static readonly Func<object, Task> DisposeScopeCallback = static state => ((RequestFeatures)state).DisposeScopeAsync();

    private IServiceScope? _scope;
    private IServiceProvider? _requestServices;
    private bool _requestServicesSet;

    IServiceProvider IServiceProvidersFeature.RequestServices
    {
        get
        {
            if (!_requestServicesSet && Server.ScopeFactory is { } scopeFactory)
            {
                _onCompleted.Push(new KeyValuePair<Func<object, Task>, object>(DisposeScopeCallback, this));
                _scope = scopeFactory.CreateScope();
                _requestServices = _scope.ServiceProvider;
                _requestServicesSet = true;
            }
            return _requestServices!;
        }
        set
        {
            _requestServices = value;
            _requestServicesSet = true;
        }
    }

    private void ResetServices()
    {
        _scope = null;
        _requestServices = null;
        _requestServicesSet = false;
    }

    private Task DisposeScopeAsync()
    {
        IServiceScope? scope = _scope;
        _scope = null;
        _requestServices = null;
        switch (scope)
        {
            case IAsyncDisposable asyncDisposable:
                ValueTask disposing = asyncDisposable.DisposeAsync();
                if (!disposing.IsCompletedSuccessfully) return disposing.AsTask();
                disposing.GetAwaiter().GetResult();
                break;
            case IDisposable disposable:
                disposable.Dispose();
                break;
        }
        return Task.CompletedTask;
    }
}
