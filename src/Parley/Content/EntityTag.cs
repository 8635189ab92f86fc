using Parley.Http1;

namespace Parley.Content;

/// <summary>
/// An entity tag (RFC 9110 §8.8.3): an opaque validator, strong or weak (<c>W/</c> prefix).
/// <c>Equals</c> means "the same tag, same weakness"; use <see cref="StrongEquals"/> and
/// <see cref="WeakEquals"/> for the two comparison functions of §8.8.3.2.
/// </summary>
public sealed class EntityTag : IEquatable<EntityTag>
{
    private EntityTag(string opaqueTag, bool isWeak)
    {
        Tag = opaqueTag;
        IsWeak = isWeak;
    }

    /// <summary>The characters between the double quotes.</summary>
    public string Tag { get; }

    /// <summary>Whether the tag is weak (<c>W/"..."</c>).</summary>
    public bool IsWeak { get; }

    /// <summary>Creates a tag from its opaque characters (without quotes).</summary>
    /// <exception cref="ArgumentException">A character is not an etagc (RFC 9110 §8.8.3).</exception>
    public static EntityTag Create(string tag, bool isWeak = false)
    {
        ArgumentNullException.ThrowIfNull(tag);
        foreach (char c in tag)
        {
            if (!IsEtagChar(c))
            {
                throw new ArgumentException(
                    $"Entity tag character U+{(int)c:X4} is not allowed: etagc = %x21 / %x23-7E / obs-text (RFC 9110 §8.8.3).", nameof(tag));
            }
        }

        return new EntityTag(tag, isWeak);
    }

    /// <summary>Parses one entity-tag such as <c>"xyzzy"</c> or <c>W/"xyzzy"</c>; surrounding whitespace is allowed.</summary>
    public static bool TryParse(ReadOnlySpan<char> text, out EntityTag? tag)
    {
        text = HttpSyntax.TrimOws(text);

        // RFC 9110 §8.8.3: entity-tag = [ weak ] opaque-tag ; weak = %s"W/" ; opaque-tag = DQUOTE *etagc DQUOTE
        bool weak = text.StartsWith("W/", StringComparison.Ordinal);
        ReadOnlySpan<char> opaque = weak ? text[2..] : text;
        tag = null;
        if (opaque.Length < 2 || opaque[0] != '"' || opaque[^1] != '"')
        {
            return false;
        }

        opaque = opaque[1..^1];
        foreach (char c in opaque)
        {
            if (!IsEtagChar(c))
            {
                return false;
            }
        }

        tag = new EntityTag(opaque.ToString(), weak);
        return true;
    }

    /// <summary>Parses one entity-tag.</summary>
    /// <exception cref="FormatException">The text is not an entity-tag.</exception>
    public static EntityTag Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return TryParse(text, out EntityTag? tag) ? tag! : throw new FormatException($"'{text}' is not an entity-tag (RFC 9110 §8.8.3).");
    }

    /// <summary>
    /// Strong comparison (RFC 9110 §8.8.3.2): both tags are strong and their opaque tags are identical.
    /// </summary>
    public static bool StrongEquals(EntityTag? a, EntityTag? b) =>
        a is not null && b is not null && !a.IsWeak && !b.IsWeak && string.Equals(a.Tag, b.Tag, StringComparison.Ordinal);

    /// <summary>
    /// Weak comparison (RFC 9110 §8.8.3.2): the opaque tags are identical, whatever their weakness.
    /// </summary>
    public static bool WeakEquals(EntityTag? a, EntityTag? b) =>
        a is not null && b is not null && string.Equals(a.Tag, b.Tag, StringComparison.Ordinal);

    /// <summary>The field form: <c>"tag"</c> or <c>W/"tag"</c>.</summary>
    public override string ToString() => IsWeak ? $"W/\"{Tag}\"" : $"\"{Tag}\"";

    /// <inheritdoc />
    public bool Equals(EntityTag? other) =>
        other is not null && IsWeak == other.IsWeak && string.Equals(Tag, other.Tag, StringComparison.Ordinal);

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as EntityTag);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Tag, IsWeak);

    // RFC 9110 §8.8.3: etagc = %x21 / %x23-7E / obs-text ; obs-text = %x80-FF
    private static bool IsEtagChar(char c) => c == 0x21 || (c >= 0x23 && c <= 0x7E) || (c >= 0x80 && c <= 0xFF);
}
