using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Primitives;

namespace Parley.AspNetCore;

// HTTP/1.1 Upgrade (RFC 9110 §7.8) through the engine's SwitchProtocolsAsync. The WebSockets middleware
// (app.UseWebSockets()) finds this feature and adds IHttpWebSocketFeature on top of it, as it does on Kestrel.
internal abstract partial class RequestFeatures : IHttpUpgradeFeature
{
    private Stream? _upgraded;

    bool IHttpUpgradeFeature.IsUpgradableRequest => EngineRequest.IsUpgradeRequest;

    async Task<Stream> IHttpUpgradeFeature.UpgradeAsync()
    {
        if (!EngineRequest.IsUpgradeRequest)
        {
            throw new InvalidOperationException("Cannot upgrade a non-upgradable request. Check IHttpUpgradeFeature.IsUpgradableRequest to determine if a request can be upgraded.");
        }
        if (_hasStarted) throw new InvalidOperationException("Upgrade cannot be called after the response has started.");
        // As Kestrel: the response becomes the 101; OnStarting callbacks run first.
        _statusCode = Microsoft.AspNetCore.Http.StatusCodes.Status101SwitchingProtocols;
        _reasonPhrase = "Switching Protocols";
        while (_onStarting.TryPop(out KeyValuePair<Func<object, Task>, object> callback))
        {
            await callback.Key(callback.Value).ConfigureAwait(false);
        }
        // The protocol the application names in its Upgrade field (the WebSockets middleware sets
        // "websocket"); without one, the first the client offered.
        string protocol = FirstValue(CurrentResponseHeaders["Upgrade"]) ?? FirstValue(new StringValues(EngineRequest.Headers["Upgrade"]))!;
        CopyHeadersToEngine(EngineResponse);
        _hasStarted = true;
        _responseHeaders.IsReadOnly = true;
        Stream stream = await EngineResponse.SwitchProtocolsAsync(protocol).ConfigureAwait(false);
        _upgraded = stream;
        return stream;
    }

    private static string? FirstValue(StringValues values)
    {
        foreach (string? line in values)
        {
            if (line is null) continue;
            foreach (string item in line.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)) return item;
        }
        return null;
    }

    /// <summary>
    /// Closes the upgraded connection once the application's request is over, as Kestrel does: the
    /// middleware that upgraded must keep its request running while it uses the stream.
    /// </summary>
    internal void EndUpgrade() => Interlocked.Exchange(ref _upgraded, null)?.Dispose();
}
