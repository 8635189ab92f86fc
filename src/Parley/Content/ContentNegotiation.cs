namespace Parley.Content;

/// <summary>
/// Proactive content negotiation (RFC 9110 §12.1): picks, from what the server can send, the
/// representation the request's <c>Accept</c>, <c>Accept-Language</c> or <c>Accept-Encoding</c>
/// field prefers. All methods take raw field values and never throw on any field value.
/// </summary>
public static class ContentNegotiation
{
    /// <summary>The identity content coding: no transformation (RFC 9110 §12.5.3).</summary>
    public const string Identity = "identity";

    /// <summary>
    /// Chooses a language (RFC 9110 §12.5.4). Ranges are tried by descending q, ties in field order.
    /// Each range matches by RFC 4647 §3.3.1 basic filtering, case-insensitively, preferring an
    /// exact match (<c>fr</c> picks <c>fr</c> before <c>fr-CA</c>, and <c>fr-CA</c> if there is no
    /// <c>fr</c>); a range that matches nothing is truncated as in RFC 4647 §3.4 lookup
    /// (<c>fr-CH</c> falls back to <c>fr</c>). <c>*</c> matches any language not matched by another
    /// range. A language whose most specific matching range has <c>q=0</c> is never chosen.
    /// </summary>
    /// <returns>An element of <paramref name="available"/>, or <paramref name="fallback"/> when none is acceptable or no field was sent.</returns>
    public static string ChooseLanguage(string? acceptLanguage, IReadOnlyList<string> available, string fallback)
    {
        ArgumentNullException.ThrowIfNull(available);
        ArgumentNullException.ThrowIfNull(fallback);
        List<QualityItem> ranges = [];
        foreach (QualityItem item in QualityValues.Parse(acceptLanguage))
        {
            if (IsLanguageRange(item.Value))
            {
                ranges.Add(item);
            }
        }

        foreach (QualityItem range in ByDescendingQuality(ranges))
        {
            if (range.Value == "*")
            {
                foreach (string tag in available)
                {
                    if (LanguageQuality(ranges, tag, out bool byWildcard) > 0 && byWildcard)
                    {
                        return tag;
                    }
                }

                continue;
            }

            // RFC 4647 §3.4: progressively truncate the range until a tag matches.
            for (ReadOnlySpan<char> r = range.Value; !r.IsEmpty; r = Truncate(r))
            {
                if (FindLanguage(ranges, available, r, exact: true) is string exact)
                {
                    return exact;
                }

                if (FindLanguage(ranges, available, r, exact: false) is string prefixed)
                {
                    return prefixed;
                }
            }
        }

        return fallback;
    }

    /// <summary>
    /// Chooses a content coding (RFC 9110 §12.5.3) among <paramref name="available"/> (e.g. <c>br</c>,
    /// <c>gzip</c>): the highest q wins, ties going to the order of <paramref name="available"/> (the
    /// server's preference). <c>identity</c> is acceptable unless excluded by <c>identity;q=0</c> or by
    /// <c>*;q=0</c> without an acceptable <c>identity</c>; it is returned when nothing else fits, when the
    /// field is empty, or when it was given a higher q than every other acceptable coding. Without an
    /// <c>Accept-Encoding</c> field any coding is acceptable, and <c>identity</c> is returned, since it is
    /// the only coding every recipient understands.
    /// </summary>
    /// <returns>An element of <paramref name="available"/>, <see cref="Identity"/>, or <c>null</c> when nothing is acceptable (406).</returns>
    public static string? ChooseEncoding(string? acceptEncoding, IReadOnlyList<string> available)
    {
        ArgumentNullException.ThrowIfNull(available);
        List<QualityItem> codings = [];
        foreach (QualityItem item in QualityValues.Parse(acceptEncoding))
        {
            if (!item.Value.Contains('/'))
            {
                codings.Add(item);
            }
        }

        string? best = null;
        int bestQuality = 0;
        foreach (string coding in available)
        {
            if (coding.Equals(Identity, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            int q = CodingQuality(codings, coding, isIdentity: false);
            if (q > bestQuality)
            {
                (best, bestQuality) = (coding, q);
            }
        }

        // §12.5.3: "If the representation has no content coding, then it is acceptable by default
        // unless specifically excluded by the Accept-Encoding header field stating either
        // identity;q=0 or *;q=0 without a more specific entry for identity."
        int identity = CodingQuality(codings, Identity, isIdentity: true);
        if (best is not null && identity <= bestQuality)
        {
            return best;
        }

        return identity > 0 ? Identity : best;
    }

    /// <summary>
    /// Chooses a media type (RFC 9110 §12.5.1) among <paramref name="available"/> (e.g.
    /// <c>text/html; charset=utf-8</c>). Each available type takes the q of the most specific
    /// matching media range: <c>type/subtype</c> with parameters over <c>type/subtype</c> over
    /// <c>type/*</c> over <c>*/*</c>; a range's parameters must all appear on the type. The highest q
    /// wins; ties go to the more specific match, then to the earlier range in the field, then to the
    /// order of <paramref name="available"/>. Without a usable <c>Accept</c> field, any type is
    /// acceptable and the first available one is returned.
    /// </summary>
    /// <returns>An element of <paramref name="available"/>, or <c>null</c> when none is acceptable (406).</returns>
    public static string? ChooseMediaType(string? accept, IReadOnlyList<string> available)
    {
        ArgumentNullException.ThrowIfNull(available);
        List<(QualityItem Item, MediaType Type)> ranges = [];
        foreach (QualityItem item in QualityValues.Parse(accept))
        {
            if (MediaType.TryParse(item.Value, item.Parameters, out MediaType range) && (range.Type != "*" || range.Subtype == "*"))
            {
                ranges.Add((item, range));
            }
        }

        if (ranges.Count == 0)
        {
            // §12.5.1: "A request without any Accept header field implies that the user agent will
            // accept any media type in response."
            return available.Count > 0 ? available[0] : null;
        }

        string? best = null;
        (int Quality, int Specificity, int Index) bestScore = (0, -1, int.MaxValue);
        foreach (string candidate in available)
        {
            if (!MediaType.TryParseFull(candidate, out MediaType type))
            {
                continue;
            }

            int matchIndex = -1, matchSpecificity = -1;
            for (int i = 0; i < ranges.Count; i++)
            {
                int specificity = ranges[i].Type.MatchSpecificity(type);
                if (specificity > matchSpecificity)
                {
                    (matchIndex, matchSpecificity) = (i, specificity);
                }
            }

            if (matchIndex < 0)
            {
                continue;
            }

            (int, int, int) score = (ranges[matchIndex].Item.Quality, matchSpecificity, matchIndex);
            if (score.Item1 > 0 && IsBetter(score, bestScore))
            {
                (best, bestScore) = (candidate, score);
            }
        }

        return best;
    }

    private static bool IsBetter((int Quality, int Specificity, int Index) a, (int Quality, int Specificity, int Index) b) =>
        a.Quality != b.Quality ? a.Quality > b.Quality
        : a.Specificity != b.Specificity ? a.Specificity > b.Specificity
        : a.Index < b.Index;

    // Members with q > 0 by descending weight; equal weights keep field order. Insertion sort is
    // stable (List.Sort is not), and lists are capped at QualityValues.DefaultMaxItems.
    private static List<QualityItem> ByDescendingQuality(List<QualityItem> items)
    {
        var sorted = new List<QualityItem>(items.Count);
        foreach (QualityItem item in items)
        {
            if (item.Quality == 0)
            {
                continue;
            }

            int at = sorted.Count;
            while (at > 0 && sorted[at - 1].Quality < item.Quality)
            {
                at--;
            }

            sorted.Insert(at, item);
        }

        return sorted;
    }

    private static string? FindLanguage(List<QualityItem> ranges, IReadOnlyList<string> available, ReadOnlySpan<char> range, bool exact)
    {
        foreach (string tag in available)
        {
            bool matches = exact ? tag.AsSpan().Equals(range, StringComparison.OrdinalIgnoreCase) : BasicFilterMatches(range, tag);
            if (matches && LanguageQuality(ranges, tag, out _) != 0)
            {
                return tag;
            }
        }

        return null;
    }

    // The q of the longest range matching the tag, or of "*" when none does; -1 when not listed at all.
    private static int LanguageQuality(List<QualityItem> ranges, string tag, out bool byWildcard)
    {
        int quality = -1, length = -1, wildcard = -1;
        foreach (QualityItem range in ranges)
        {
            if (range.Value == "*")
            {
                wildcard = wildcard < 0 ? range.Quality : wildcard;
            }
            else if (range.Value.Length > length && BasicFilterMatches(range.Value, tag))
            {
                (quality, length) = (range.Quality, range.Value.Length);
            }
        }

        byWildcard = length < 0 && wildcard >= 0;
        return length >= 0 ? quality : wildcard;
    }

    // RFC 4647 §3.3.1: a range matches a tag if it equals the tag or is a prefix of it followed by "-".
    private static bool BasicFilterMatches(ReadOnlySpan<char> range, ReadOnlySpan<char> tag) =>
        tag.StartsWith(range, StringComparison.OrdinalIgnoreCase) && (tag.Length == range.Length || tag[range.Length] == '-');

    // RFC 4647 §3.4: drop the last subtag, and a singleton left at the end with it.
    private static ReadOnlySpan<char> Truncate(ReadOnlySpan<char> range)
    {
        int dash = range.LastIndexOf('-');
        if (dash < 0)
        {
            return default;
        }

        range = range[..dash];
        int previous = range.LastIndexOf('-');
        return range.Length - previous - 1 == 1 && previous >= 0 ? range[..previous] : range;
    }

    // RFC 4647 §2.1: language-range = (1*8ALPHA *("-" 1*8alphanum)) / "*"
    private static bool IsLanguageRange(string value)
    {
        if (value == "*")
        {
            return true;
        }

        int subtag = 0, index = 0;
        foreach (char c in value)
        {
            if (c == '-')
            {
                if (subtag == 0)
                {
                    return false;
                }

                (subtag, index) = (0, index + 1);
            }
            else if (++subtag > 8 || !(index == 0 ? char.IsAsciiLetter(c) : char.IsAsciiLetterOrDigit(c)))
            {
                return false;
            }
        }

        return subtag > 0;
    }

    // §12.5.3: codings are case-insensitive; §8.4.1.1/§8.4.1.3: x-compress and x-gzip are aliases.
    private static int CodingQuality(List<QualityItem> codings, string coding, bool isIdentity)
    {
        int wildcard = -1;
        foreach (QualityItem item in codings)
        {
            if (SameCoding(item.Value, coding))
            {
                return item.Quality;
            }

            if (item.Value == "*" && wildcard < 0)
            {
                wildcard = item.Quality;
            }
        }

        if (wildcard >= 0)
        {
            return wildcard;
        }

        // Identity not listed is acceptable, but the least preferred; another coding not listed is not acceptable.
        return isIdentity ? 1 : 0;
    }

    private static bool SameCoding(string a, string b) =>
        Canonical(a).Equals(Canonical(b), StringComparison.OrdinalIgnoreCase);

    private static ReadOnlySpan<char> Canonical(string coding) =>
        coding.Equals("x-gzip", StringComparison.OrdinalIgnoreCase) ? "gzip"
        : coding.Equals("x-compress", StringComparison.OrdinalIgnoreCase) ? "compress"
        : coding;
}
