namespace Parley;

/// <summary>The four forms of request-target (RFC 9112 §3.2).</summary>
public enum RequestTargetForm : byte
{
    /// <summary><c>/path?query</c>, the usual form (§3.2.1).</summary>
    Origin,
    /// <summary><c>http://host/path</c>, sent to proxies and accepted by servers (§3.2.2).</summary>
    Absolute,
    /// <summary><c>host:port</c>, only for CONNECT (§3.2.3).</summary>
    Authority,
    /// <summary><c>*</c>, only for a server-wide OPTIONS (§3.2.4).</summary>
    Asterisk,
}
