namespace Parley.Server;

/// <summary>
/// The one central abstraction: something that answers a request. Routing, the demo site and static
/// files are all handlers built from handlers. Return a completed <see cref="ValueTask"/> when the answer
/// is ready synchronously: the engine then handles the request without an allocation or a thread hop.
/// </summary>
public delegate ValueTask RequestHandler(HttpRequest request, HttpResponse response);
