using System.Text;

namespace Parley.Server;

/// <summary>Answers the liveness and readiness paths of <see cref="HealthCheckOptions"/> ahead of the handler.</summary>
internal static class HealthEndpoints
{
    public static RequestHandler Wrap(RequestHandler inner, HttpServer server, HealthCheckOptions options)
    {
        byte[]? liveness = PathBytes(options.LivenessPath, nameof(options.LivenessPath));
        byte[]? readiness = PathBytes(options.ReadinessPath, nameof(options.ReadinessPath));
        if (liveness is not null && readiness is not null && liveness.AsSpan().SequenceEqual(readiness))
        {
            throw new ArgumentException("LivenessPath and ReadinessPath must differ: a draining server is alive but not ready", nameof(options));
        }
        Func<bool>? check = options.ReadinessCheck;
        return (request, response) =>
        {
            ReadOnlySpan<byte> path = request.RawPath;
            if (liveness is not null && path.SequenceEqual(liveness)) return Answer(request, response, 200, "ok");
            if (readiness is not null && path.SequenceEqual(readiness))
            {
                if (server.IsStopping) return Answer(request, response, 503, "draining");
                return check is null || check() ? Answer(request, response, 200, "ready") : Answer(request, response, 503, "not ready");
            }
            return inner(request, response);
        };
    }

    private static byte[]? PathBytes(string? path, string name)
    {
        if (path is null) return null;
        if (!path.StartsWith('/') || !Ascii.IsValid(path) || path.AsSpan().IndexOfAny("?# \t\r\n") >= 0)
        {
            throw new ArgumentException($"HealthChecks.{name} must be an absolute path such as /healthz, not '{path}'");
        }
        return Encoding.ASCII.GetBytes(path);
    }

    private static ValueTask Answer(HttpRequest request, HttpResponse response, int status, string text)
    {
        if (request.Method is not ("GET" or "HEAD"))
        {
            // RFC 9110 §15.5.6: 405 names the methods the resource has.
            response.StatusCode = 405;
            response.Headers.Set("Allow", "GET, HEAD");
            response.WriteText("health endpoints answer GET and HEAD\n");
            return ValueTask.CompletedTask;
        }
        response.StatusCode = status;
        response.Headers.Set("Cache-Control", "no-store");
        response.WriteText(text + "\n");
        return ValueTask.CompletedTask;
    }
}
