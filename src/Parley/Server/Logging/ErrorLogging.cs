namespace Parley.Server;

/// <summary>How the server calls an error log it was given.</summary>
internal static class ErrorLogging
{
    /// <summary>
    /// Calls <paramref name="log"/> (none when null). An exception from the log itself must cost no response,
    /// no connection and no thread (the epoll loops, the heartbeat and the access-log writer call it too, where
    /// an unhandled exception ends the process), so it goes to standard error with the line it failed on.
    /// </summary>
    public static void Report(this Action<string, Exception?>? log, string message, Exception? exception)
    {
        if (log is null) return;
        try
        {
            log(message, exception);
        }
        catch (Exception failure)
        {
            Console.Error.WriteLine($"the error log failed ({failure.GetType().Name}: {failure.Message}) on: {message}");
        }
    }
}
