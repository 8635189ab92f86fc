using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;

namespace Parley.AspNetCore;

// Routing's features, offered by the request object itself as Kestrel's HttpProtocol offers them: without
// them, endpoint routing adds an EndpointFeature (and a RouteValuesFeature when the route has values) to
// every request.
internal abstract partial class RequestFeatures : IEndpointFeature, IRouteValuesFeature
{
    private Endpoint? _endpoint;
    private RouteValueDictionary? _routeValues;

    Endpoint? IEndpointFeature.Endpoint
    {
        get => _endpoint;
        set => _endpoint = value;
    }

    // Made per request when first asked: the application may keep the dictionary past its request.
    RouteValueDictionary IRouteValuesFeature.RouteValues
    {
        get => _routeValues ??= new RouteValueDictionary();
        set => _routeValues = value;
    }

    private void ResetRouting()
    {
        _endpoint = null;
        _routeValues = null;
    }
}
