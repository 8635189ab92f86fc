using System.Diagnostics.CodeAnalysis;
using Parley.Http1;

namespace Parley.Server;

/// <summary>
/// The values a route template captured from the path, e.g. <c>id</c> = <c>42</c> for <c>/users/{id:int}</c>
/// and <c>/users/42</c>. Values are percent-decoded as UTF-8 ('+' stays '+'; invalid UTF-8 becomes U+FFFD)
/// and built as strings only when asked for. Like the request, they must not be kept after the handler ends.
/// </summary>
public sealed class RouteValues
{
    private readonly HttpRequest _request;
    private RouteTemplate? _template;
    private Range[]? _ranges;
    private string?[]? _values;

    internal RouteValues(HttpRequest request) => _request = request;

    /// <summary>The template that matched, as mapped (e.g. <c>/users/{id:int}</c>), or null when no route matched.</summary>
    public string? Template => _template?.Text;

    /// <summary>How many parameters the matched template has.</summary>
    public int Count => _template?.ParameterNames.Length ?? 0;

    /// <summary>The value of parameter <paramref name="name"/> (case-sensitive), or null when the matched template has no such parameter.</summary>
    public string? this[string name] => TryGetValue(name, out string? value) ? value : null;

    /// <summary>Gets the value of parameter <paramref name="name"/> (case-sensitive), if the matched template has it.</summary>
    public bool TryGetValue(string name, [NotNullWhen(true)] out string? value)
    {
        value = null;
        if (_template is null) return false;
        int index = Array.IndexOf(_template.ParameterNames, name);
        if (index < 0) return false;
        value = _values![index] ??= Decode(_ranges![index]);
        return true;
    }

    private string Decode(Range range)
    {
        // An empty value may lie past the end of an empty path (which matched as "/").
        (int offset, int length) = range.GetOffsetAndLength(int.MaxValue);
        return length == 0 ? string.Empty : PercentEncoding.DecodeToString(_request.RawPath.Slice(offset, length), plusAsSpace: false);
    }

    /// <summary>Records a match; <paramref name="ranges"/> locate the values in the request's raw path.</summary>
    internal void Set(RouteTemplate template, ReadOnlySpan<Range> ranges)
    {
        _template = template;
        int count = template.ParameterNames.Length;
        if (count == 0) return;
        _ranges ??= new Range[RouteTemplate.MaxParameters];
        _values ??= new string?[RouteTemplate.MaxParameters];
        ranges[..count].CopyTo(_ranges);
        Array.Clear(_values, 0, count);
    }

    internal void Clear() => _template = null;
}
