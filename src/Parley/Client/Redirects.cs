using Parley.Http1;

namespace Parley.Client;

/// <summary>The redirect rules of RFC 9110 §15.4: which requests follow, with which method, body and fields.</summary>
internal static class Redirects
{
    public static bool IsRedirect(int status) => status is 301 or 302 or 303 or 307 or 308;

    public static string Key(string method, Uri uri) => $"{method} {uri.AbsoluteUri}";

    /// <summary>The request to send for a redirect response, or null when it is not to be followed.</summary>
    public static ParleyRequest? Next(ParleyRequest current, ParleyResponse response)
    {
        string? location = response.Headers["Location"];
        if (string.IsNullOrWhiteSpace(location))
        {
            return null; // nothing to follow
        }
        // RFC 9110 §10.2.2: Location may be relative, resolved against the request URI (§15.4: keep its fragment if none).
        if (!Uri.TryCreate(current.Uri, location.Trim(), out Uri? target) || !Origin.IsSupported(target))
        {
            return null; // not an http or https URI we can request
        }
        if (string.IsNullOrEmpty(target.Fragment) && !string.IsNullOrEmpty(current.Uri.Fragment))
        {
            target = new UriBuilder(target) { Fragment = current.Uri.Fragment[1..] }.Uri;
        }

        int status = response.StatusCode;
        string method = current.Method;
        ParleyContent? content = current.Content;
        // §15.4.4: 303 means "GET the other resource" (HEAD stays HEAD).
        // §15.4.2, §15.4.3: for 301 and 302 a user agent MAY change POST to GET; every browser does.
        if ((status == 303 && method != HttpMethods.Head) || (status is 301 or 302 && method == HttpMethods.Post))
        {
            method = HttpMethods.Get;
            content = null;
        }
        // §15.4.8, §15.4.9: 307 and 308 keep method and body, which must then be sendable again.
        if (content is not null && !content.IsReplayable)
        {
            return null; // the body was a stream, already consumed
        }

        ParleyHeaders headers = current.Headers.Clone();
        if (content is null)
        {
            headers.Remove("Content-Type");
            headers.Remove("Content-Encoding");
            headers.Remove("Content-Language");
            headers.Remove("Content-Location");
        }
        if (Origin.Of(target) != Origin.Of(current.Uri))
        {
            // §15.4: credentials for one origin are not leaked to another; a change of scheme is a change of
            // origin (RFC 6454 §4), so an https -> http downgrade never carries them in the clear.
            headers.Remove("Authorization");
            headers.Remove("Cookie");
            headers.Remove("Proxy-Authorization");
        }
        headers.Remove("Host");

        var next = new ParleyRequest(method, target)
        {
            Content = content,
            ExpectContinue = current.ExpectContinue && content is not null,
            Observer = current.Observer,
            FollowRedirects = current.FollowRedirects,
        };
        foreach (KeyValuePair<string, string> field in headers) next.Headers.Add(field.Key, field.Value);
        return next;
    }
}
