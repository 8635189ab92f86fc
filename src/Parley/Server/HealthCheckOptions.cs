namespace Parley.Server;

/// <summary>
/// The liveness and readiness endpoints the server answers itself, before the handler, for load balancers
/// and orchestrators (Kubernetes' <c>livenessProbe</c> and <c>readinessProbe</c>). Both answer GET and HEAD
/// with a short <c>text/plain</c> body and <c>Cache-Control: no-store</c>; another method gets 405.
/// </summary>
public sealed class HealthCheckOptions
{
    /// <summary>
    /// The path (exact, query ignored) answering 200 <c>ok</c> as long as the process serves requests at all:
    /// a failing liveness probe restarts the process. Default <c>/healthz</c>; null for none.
    /// </summary>
    public string? LivenessPath { get; set; } = "/healthz";

    /// <summary>
    /// The path answering 200 <c>ready</c> while the server takes new work (<see cref="HttpServer.IsReady"/>),
    /// and 503 <c>draining</c> from the moment a stop begins, or 503 <c>not ready</c> while
    /// <see cref="ReadinessCheck"/> says so: a failing readiness probe takes the instance out of the load
    /// balancer without restarting it. Default <c>/readyz</c>; null for none.
    /// </summary>
    public string? ReadinessPath { get; set; } = "/readyz";

    /// <summary>
    /// The application's own condition for readiness (a cache warmed, a database reachable), asked on each
    /// readiness request; it must be quick and must not throw. Null (default): ready whenever started and not stopping.
    /// </summary>
    public Func<bool>? ReadinessCheck { get; set; }
}
