using System.Collections;

namespace Parley.Content;

/// <summary>One name/value pair of a form, in the order it was received.</summary>
/// <param name="Name">The field name (compared case-sensitively).</param>
/// <param name="Value">The field value; empty when the pair had no <c>=</c>.</param>
public readonly record struct FormField(string Name, string Value);

/// <summary>
/// The fields of a submitted form: ordered, multi-valued, names compared case-sensitively
/// (WHATWG URL §5.1: names are opaque strings). Lookups scan the list, which is the right
/// trade for the few dozen fields a form usually has.
/// </summary>
public sealed class FormFields : IReadOnlyList<FormField>
{
    private readonly List<FormField> _fields = [];

    /// <summary>Creates an empty collection.</summary>
    public FormFields()
    {
    }

    /// <summary>The number of name/value pairs, counting every repeat of a name.</summary>
    public int Count => _fields.Count;

    /// <summary>The pair at <paramref name="index"/> in received order.</summary>
    public FormField this[int index] => _fields[index];

    /// <summary>The first value received for <paramref name="name"/>, or <c>null</c> if none.</summary>
    public string? this[string name]
    {
        get
        {
            ArgumentNullException.ThrowIfNull(name);
            foreach (FormField field in _fields)
            {
                if (string.Equals(field.Name, name, StringComparison.Ordinal))
                {
                    return field.Value;
                }
            }

            return null;
        }
    }

    /// <summary>Every value received for <paramref name="name"/>, in order; empty if none.</summary>
    public IReadOnlyList<string> GetValues(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        List<string>? values = null;
        foreach (FormField field in _fields)
        {
            if (string.Equals(field.Name, name, StringComparison.Ordinal))
            {
                (values ??= []).Add(field.Value);
            }
        }

        return values is null ? [] : values;
    }

    /// <summary>Whether at least one pair named <paramref name="name"/> was received.</summary>
    public bool Contains(string name) => this[name] is not null;

    /// <summary>Appends a pair; used by the parsers.</summary>
    internal void Add(string name, string value) => _fields.Add(new FormField(name, value));

    /// <summary>Enumerates the pairs in received order without allocating.</summary>
    public List<FormField>.Enumerator GetEnumerator() => _fields.GetEnumerator();

    IEnumerator<FormField> IEnumerable<FormField>.GetEnumerator() => _fields.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => _fields.GetEnumerator();
}
