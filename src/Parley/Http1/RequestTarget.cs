namespace Parley.Http1;

/// <summary>Validates a request-target and classifies its form (RFC 9112 §3.2).</summary>
internal static class RequestTarget
{
    /// <summary>
    /// Validates the target the head's offsets point at. <paramref name="charactersChecked"/>: the caller
    /// already found every byte of it valid (<see cref="ByteClasses.Target"/>).
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> buffer, RequestHead head, out HttpError error, bool charactersChecked = false)
    {
        if (!TryParseForm(buffer, head, out error, charactersChecked)) return false;
        // Our choice: a NUL decoded from the path would reach file systems and native APIs, which read it
        // as the end of the string; no resource name needs one (RFC 3986 §7.3: decoded data as a hazard).
        if (buffer.Slice(head.PathStart, head.PathLength).IndexOf("%00"u8) >= 0)
        {
            error = HttpError.BadRequest("percent-encoded NUL (%00) in the path");
            return false;
        }
        return true;
    }

    private static bool TryParseForm(ReadOnlySpan<byte> buffer, RequestHead head, out HttpError error, bool charactersChecked)
    {
        error = default;
        ReadOnlySpan<byte> target = buffer.Slice(head.TargetStart, head.TargetLength);
        if (!charactersChecked && target.ContainsAny(HttpSyntax.InvalidTargetBytes))
        {
            error = HttpError.BadRequest(target.Contains((byte)'#')
                ? "fragment in request-target"
                : "invalid character in request-target");
            return false;
        }
        if (!HttpSyntax.HasValidPercentEncoding(target))
        {
            error = HttpError.BadRequest("malformed percent-encoding in request-target");
            return false;
        }

        // Compare the method's bytes: asking head.Method would build a string for an extension method.
        ReadOnlySpan<byte> method = buffer.Slice(head.MethodStart, head.MethodLength);
        bool isConnect = method.Length == 7 && method.SequenceEqual("CONNECT"u8);
        if (target[0] == (byte)'/')
        {
            if (isConnect)
            {
                error = HttpError.BadRequest("CONNECT requires an authority-form target");
                return false;
            }
            head.TargetForm = RequestTargetForm.Origin;
            SetPath(head, head.TargetStart, target);
            return true;
        }
        if (target.Length == 1 && target[0] == (byte)'*')
        {
            // RFC 9112 §3.2.4: asterisk-form is only used for a server-wide OPTIONS request.
            if (!method.SequenceEqual("OPTIONS"u8))
            {
                error = HttpError.BadRequest("asterisk-form target is only allowed with OPTIONS");
                return false;
            }
            head.TargetForm = RequestTargetForm.Asterisk;
            head.PathStart = head.TargetStart;
            head.PathLength = 1;
            return true;
        }
        if (isConnect)
        {
            // RFC 9112 §3.2.3: authority-form = uri-host ":" port
            if (!HostSyntax.IsValidAuthority(target, requirePort: true))
            {
                error = HttpError.BadRequest("invalid authority-form target");
                return false;
            }
            head.TargetForm = RequestTargetForm.Authority;
            head.AuthorityStart = head.TargetStart;
            head.AuthorityLength = target.Length;
            head.PathStart = head.TargetStart;
            head.PathLength = 0;
            return true;
        }
        return TryParseAbsoluteForm(head, target, out error);
    }

    // RFC 9112 §3.2.2: absolute-form = absolute-URI; servers MUST accept it. Only http and https name
    // origins we could be; anything else is not a target we can serve.
    private static bool TryParseAbsoluteForm(RequestHead head, ReadOnlySpan<byte> target, out HttpError error)
    {
        error = default;
        int schemeLength;
        if (target.Length > 7 && System.Text.Ascii.EqualsIgnoreCase(target[..7], "http://"u8)) schemeLength = 7;
        else if (target.Length > 8 && System.Text.Ascii.EqualsIgnoreCase(target[..8], "https://"u8)) schemeLength = 8;
        else
        {
            error = HttpError.BadRequest("request-target is neither origin-form nor absolute-form");
            return false;
        }
        ReadOnlySpan<byte> afterScheme = target[schemeLength..];
        int authorityEnd = afterScheme.IndexOfAny((byte)'/', (byte)'?');
        if (authorityEnd < 0) authorityEnd = afterScheme.Length;
        ReadOnlySpan<byte> authority = afterScheme[..authorityEnd];
        if (authority.Contains((byte)'@') || !HostSyntax.IsValidAuthority(authority, requirePort: false) || authority.IsEmpty)
        {
            // RFC 9110 §4.2.4: userinfo is deprecated in http(s) URIs and is a phishing vector.
            error = HttpError.BadRequest("invalid authority in absolute-form target");
            return false;
        }
        head.TargetForm = RequestTargetForm.Absolute;
        head.AuthorityStart = head.TargetStart + schemeLength;
        head.AuthorityLength = authorityEnd;
        int pathStart = head.TargetStart + schemeLength + authorityEnd;
        SetPath(head, pathStart, afterScheme[authorityEnd..]);
        return true;
    }

    private static void SetPath(RequestHead head, int pathStart, ReadOnlySpan<byte> pathAndQuery)
    {
        int query = pathAndQuery.IndexOf((byte)'?');
        head.PathStart = pathStart;
        head.PathLength = query < 0 ? pathAndQuery.Length : query;
    }
}
