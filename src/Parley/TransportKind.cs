namespace Parley;

/// <summary>
/// The I/O layer under the server's and the client's connections (<c>HttpServerOptions.Transport</c>,
/// <c>ParleyClientOptions.Transport</c>).
/// </summary>
public enum TransportKind
{
    /// <summary>
    /// <see cref="System.Net.Sockets.Socket"/>'s asynchronous operations: portable to every platform .NET runs
    /// on, and the library's default.
    /// </summary>
    Sockets,
    /// <summary>
    /// Linux epoll event loops with inline continuations: no thread hop per request, so handlers (and code after a
    /// client's <c>await</c>) run on the loop thread and must not block it. Linux on x64 only; a server takes at
    /// most 256 listeners with it.
    /// </summary>
    Epoll,
}
