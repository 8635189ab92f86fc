namespace Parley.Http1;

/// <summary>The tri-state outcome of every incremental parse step.</summary>
internal enum ParseStatus : byte
{
    /// <summary>The bytes so far are valid but incomplete: call again with more appended.</summary>
    NeedMoreData,
    /// <summary>A complete element was parsed.</summary>
    Complete,
    /// <summary>The bytes violate the protocol; the error names the status code and the reason.</summary>
    Invalid,
}

/// <summary>
/// Why a message was rejected: the status code the RFC asks for and a short reason a person can read.
/// A protocol error always ends the connection after the error response, because framing is in doubt.
/// </summary>
internal readonly record struct HttpError(int StatusCode, string Reason)
{
    /// <summary>True when this value carries an error.</summary>
    public bool IsError => StatusCode != 0;

    internal static HttpError BadRequest(string reason) => new(400, reason);

    /// <summary>
    /// An invalid response: 502, what a gateway answers its own client when the server it asked sent
    /// something it cannot use (RFC 9110 §15.6.3).
    /// </summary>
    internal static HttpError BadResponse(string reason) => new(502, reason);
}
