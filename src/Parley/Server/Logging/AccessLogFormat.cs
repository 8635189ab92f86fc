namespace Parley.Server;

/// <summary>The line formats of an <see cref="AccessLogWriter"/>.</summary>
public enum AccessLogFormat
{
    /// <summary>
    /// The Common Log Format of NCSA httpd, Apache and nginx:
    /// <c>127.0.0.1 - - [06/Dec/2026:08:10:00 +0000] "GET /a HTTP/1.1" 200 1234</c>
    /// (remote address, identity and user unknown, the time the request arrived in UTC, the request line,
    /// the status, the body bytes sent or <c>-</c> for none).
    /// </summary>
    Common,

    /// <summary>The Common format followed by the quoted <c>Referer</c> and <c>User-Agent</c> fields (<c>"-"</c> when absent), as Apache's and nginx's "combined".</summary>
    Combined,

    /// <summary>
    /// One JSON object per line: <c>time</c> (ISO 8601, UTC, when the request arrived), <c>remote</c>, <c>method</c>,
    /// <c>target</c>, <c>protocol</c>, <c>status</c>, <c>bytes</c>, <c>duration_ms</c>, <c>referer</c> and
    /// <c>user_agent</c> (null when absent), <c>connection</c> (the connection's number) and
    /// <c>request_on_connection</c>.
    /// </summary>
    JsonLines,
}
