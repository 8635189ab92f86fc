using Parley.Http1;

namespace Parley.Content;

/// <summary>The outcome of evaluating a request's preconditions (RFC 9110 §13.2.2).</summary>
public enum ConditionalResult
{
    /// <summary>All present preconditions hold (or none were sent): perform the method.</summary>
    Proceed,

    /// <summary>Answer 304 (Not Modified): a GET or HEAD whose cached copy is still current.</summary>
    NotModified,

    /// <summary>Answer 412 (Precondition Failed).</summary>
    PreconditionFailed,
}

/// <summary>
/// Evaluates the conditional request header fields of RFC 9110 §13 against the current
/// validators of the target resource. Field values are passed raw, as received (a field sent
/// on several lines joined with commas); unparsable values are handled as the RFC requires.
/// </summary>
public static class ConditionalRequest
{
    /// <summary>
    /// Evaluates <c>If-Match</c>, <c>If-Unmodified-Since</c>, <c>If-None-Match</c> and
    /// <c>If-Modified-Since</c> in the order of RFC 9110 §13.2.2. Call it only when the response
    /// without conditions would be 2xx (§13.2.1). Never throws except for a null <paramref name="method"/>.
    /// </summary>
    /// <param name="method">The request method (case-sensitive, RFC 9110 §9.1).</param>
    /// <param name="ifMatch">The <c>If-Match</c> field value, or <c>null</c>.</param>
    /// <param name="ifNoneMatch">The <c>If-None-Match</c> field value, or <c>null</c>.</param>
    /// <param name="ifModifiedSince">The <c>If-Modified-Since</c> field value, or <c>null</c>.</param>
    /// <param name="ifUnmodifiedSince">The <c>If-Unmodified-Since</c> field value, or <c>null</c>.</param>
    /// <param name="currentETag">The selected representation's entity tag, if it has one.</param>
    /// <param name="lastModified">The selected representation's modification date, if known.</param>
    /// <param name="representationExists">Whether there is a current representation at all (for <c>*</c>).</param>
    public static ConditionalResult Evaluate(
        string method,
        string? ifMatch,
        string? ifNoneMatch,
        string? ifModifiedSince,
        string? ifUnmodifiedSince,
        EntityTag? currentETag,
        DateTimeOffset? lastModified,
        bool representationExists = true)
    {
        ArgumentNullException.ThrowIfNull(method);
        bool getOrHead = method is "GET" or "HEAD";

        EntityTagList? match = EntityTagList.Parse(ifMatch);
        if (match is not null)
        {
            // RFC 9110 §13.2.2 step 1: If-Match false → 412.
            if (!IfMatch(match, currentETag, representationExists))
            {
                return ConditionalResult.PreconditionFailed;
            }
        }
        else if (TryParseSingleDate(ifUnmodifiedSince, out DateTimeOffset unmodifiedSince) && lastModified is DateTimeOffset lm)
        {
            // Step 2: only without If-Match. §13.1.4: false when the representation changed after the date;
            // ignored when the value is not a valid HTTP-date or there is no modification date.
            if (TruncateToSeconds(lm) > unmodifiedSince)
            {
                return ConditionalResult.PreconditionFailed;
            }
        }

        EntityTagList? noneMatch = EntityTagList.Parse(ifNoneMatch);
        if (noneMatch is not null)
        {
            // Step 3: If-None-Match false → 304 for GET/HEAD, else 412.
            if (!IfNoneMatch(noneMatch, currentETag, representationExists))
            {
                return getOrHead ? ConditionalResult.NotModified : ConditionalResult.PreconditionFailed;
            }
        }
        else if (getOrHead && TryParseSingleDate(ifModifiedSince, out DateTimeOffset modifiedSince) && lastModified is DateTimeOffset lm)
        {
            // Step 4: only for GET/HEAD without If-None-Match. §13.1.3: false when the representation
            // was last modified at or before the date.
            if (TruncateToSeconds(lm) <= modifiedSince)
            {
                return ConditionalResult.NotModified;
            }
        }

        return ConditionalResult.Proceed;
    }

    /// <summary>
    /// Whether a <c>Range</c> header may be honoured given <c>If-Range</c> (RFC 9110 §13.1.5).
    /// <c>true</c> when no <c>If-Range</c> was sent; otherwise only when its entity tag strongly
    /// matches <paramref name="currentETag"/>, or its HTTP-date exactly equals
    /// <paramref name="lastModified"/> (at one-second resolution). An unparsable value, a weak tag or
    /// a missing validator yields <c>false</c>: send the whole representation. Never throws.
    /// </summary>
    public static bool EvaluateIfRange(string? ifRange, EntityTag? currentETag, DateTimeOffset? lastModified)
    {
        ReadOnlySpan<char> value = HttpSyntax.TrimOws(ifRange);
        if (value.IsEmpty)
        {
            return true;
        }

        // RFC 9110 §13.1.5: If-Range = entity-tag / HTTP-date
        if (value[0] == '"' || value.StartsWith("W/", StringComparison.Ordinal))
        {
            // "the recipient MUST use the strong comparison function"; a weak tag can never match.
            return EntityTag.TryParse(value, out EntityTag? tag) && EntityTag.StrongEquals(tag, currentETag);
        }

        // "... the condition is true if the HTTP-date validator provided exactly matches the Last-Modified
        // field value that would have been sent in response" — Last-Modified has one-second resolution.
        return HttpDate.TryParse(value, out DateTimeOffset date)
            && lastModified is DateTimeOffset lm
            && TruncateToSeconds(lm) == date;
    }

    // RFC 9110 §13.1.1: "*" is true if the origin server has a current representation; a list is
    // true if any member matches the current entity tag by strong comparison.
    private static bool IfMatch(EntityTagList list, EntityTag? current, bool exists)
    {
        if (list.IsAny)
        {
            return exists;
        }

        foreach (EntityTag tag in list.Tags)
        {
            if (EntityTag.StrongEquals(tag, current))
            {
                return true;
            }
        }

        return false;
    }

    // RFC 9110 §13.1.2: "*" is false if a current representation exists; a list is false if any
    // member matches the current entity tag by weak comparison.
    private static bool IfNoneMatch(EntityTagList list, EntityTag? current, bool exists)
    {
        if (list.IsAny)
        {
            return !exists;
        }

        foreach (EntityTag tag in list.Tags)
        {
            if (EntityTag.WeakEquals(tag, current))
            {
                return false;
            }
        }

        return true;
    }

    // RFC 9110 §13.1.3-4: ignore the field if it is not a valid HTTP-date or has more than one member
    // (a second date would make the value fail to parse).
    private static bool TryParseSingleDate(string? field, out DateTimeOffset date)
    {
        date = default;
        return field is not null && HttpDate.TryParse(field, out date);
    }

    private static DateTimeOffset TruncateToSeconds(DateTimeOffset value) =>
        new(value.UtcTicks - (value.UtcTicks % TimeSpan.TicksPerSecond), TimeSpan.Zero);
}
