namespace Parley.Content;

/// <summary>
/// Thrown when a form body (<c>application/x-www-form-urlencoded</c> or <c>multipart/form-data</c>)
/// is malformed or exceeds a configured limit. <see cref="StatusCode"/> is the HTTP status the
/// server should answer with: 400 (Bad Request) for malformed input and per-field limits,
/// 413 (Content Too Large) when the body as a whole is too large.
/// </summary>
public sealed class FormException : Exception
{
    /// <summary>Creates the exception with the status code to answer with and a human-readable reason.</summary>
    public FormException(int statusCode, string message)
        : base(message)
    {
        StatusCode = statusCode;
    }

    /// <summary>The HTTP status code that describes the failure (400 or 413).</summary>
    public int StatusCode { get; }

    internal static FormException BadRequest(string message) => new(400, message);

    // RFC 9110 §15.5.14: 413 (Content Too Large).
    internal static FormException TooLarge(string message) => new(413, message);
}
