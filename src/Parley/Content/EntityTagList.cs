using Parley.Http1;

namespace Parley.Content;

/// <summary>
/// The value of <c>If-Match</c> or <c>If-None-Match</c> (RFC 9110 §13.1.1-2):
/// <c>"*"</c> or a comma-separated list of entity tags.
/// </summary>
internal sealed class EntityTagList
{
    /// <summary>Default cap on the number of tags read from one field.</summary>
    public const int DefaultMaxTags = 64;

    private EntityTagList(bool isAny, IReadOnlyList<EntityTag> tags)
    {
        IsAny = isAny;
        Tags = tags;
    }

    /// <summary>Whether the field was <c>*</c> (any current representation).</summary>
    public bool IsAny { get; }

    /// <summary>The tags listed; empty for <c>*</c>.</summary>
    public IReadOnlyList<EntityTag> Tags { get; }

    /// <summary>
    /// Parses <c>"*"</c> or <c>1#entity-tag</c>. Malformed members are skipped (they can match
    /// nothing), as are members beyond <paramref name="maxTags"/>. Returns <c>null</c> for a
    /// missing or blank field. Never throws except for a negative <paramref name="maxTags"/>.
    /// </summary>
    public static EntityTagList? Parse(string? field, int maxTags = DefaultMaxTags)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxTags);
        ReadOnlySpan<char> rest = field;
        rest = HttpSyntax.TrimOws(rest);
        if (rest.IsEmpty)
        {
            return null;
        }

        // RFC 9110 §13.1.1: If-Match = "*" / #entity-tag
        if (rest is "*")
        {
            return new EntityTagList(true, []);
        }

        var tags = new List<EntityTag>();
        while (!rest.IsEmpty && tags.Count < maxTags)
        {
            ReadOnlySpan<char> element = HttpSyntax.NextListElement(ref rest, backslashEscapes: false);
            if (EntityTag.TryParse(element, out EntityTag? tag))
            {
                tags.Add(tag!);
            }
        }

        return new EntityTagList(false, tags);
    }
}
