using System.Collections;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using EngineTrailers = Parley.Server.ResponseTrailers;

namespace Parley.AspNetCore;

/// <summary>
/// <see cref="Microsoft.AspNetCore.Http.Features.IHttpResponseTrailersFeature.Trailers"/> as a view of the engine's
/// <see cref="EngineTrailers"/>: what the application appends goes straight to the engine, which checks it
/// there and then (a field not allowed in trailers, RFC 9110 §6.5.1, is an <see cref="ArgumentException"/>),
/// so no copy is made and no error waits for the end of the response. Read-only, as Kestrel's, while the
/// response cannot carry trailers and once it has ended; ASP.NET Core's <c>SupportsTrailers()</c> reads that.
/// </summary>
internal sealed class ResponseTrailerHeaders(RequestFeatures features) : IHeaderDictionary
{
    private EngineTrailers Engine => features.EngineResponse.Trailers;

    public bool IsReadOnly => !features.TrailersWritable;

    public StringValues this[string key]
    {
        get => TryGetValue(key, out StringValues values) ? values : StringValues.Empty;
        set
        {
            CheckWritable();
            if (StringValues.IsNullOrEmpty(value))
            {
                Engine.Remove(key);
                return;
            }
            TryGetValue(key, out StringValues previous);
            Engine.Remove(key);
            try
            {
                foreach (string? line in value) Engine.Add(key, line ?? "");
            }
            catch
            {
                // A refused value leaves the field as it was.
                Engine.Remove(key);
                foreach (string? line in previous) Engine.Add(key, line ?? "");
                throw;
            }
        }
    }

    // A trailer section never carries Content-Length (RFC 9110 §6.5.1); setting one is refused by the engine.
    public long? ContentLength
    {
        get => null;
        set
        {
            if (value is null) return;
            CheckWritable();
            Engine.Add("Content-Length", value.Value.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    public ICollection<string> Keys => Names().ToList();

    public ICollection<StringValues> Values => Names().Select(name => this[name]).ToList();

    public int Count => Names().Count();

    public void Add(string key, StringValues value)
    {
        if (ContainsKey(key)) throw new ArgumentException($"The trailer '{key}' is already set.", nameof(key));
        this[key] = value;
    }

    public void Add(KeyValuePair<string, StringValues> item) => Add(item.Key, item.Value);

    public bool ContainsKey(string key) => features.IsBound && Engine.Contains(key);

    public bool Contains(KeyValuePair<string, StringValues> item) =>
        TryGetValue(item.Key, out StringValues values) && StringValues.Equals(values, item.Value);

    public bool TryGetValue(string key, out StringValues value)
    {
        value = StringValues.Empty;
        if (!features.IsBound) return false;
        foreach (KeyValuePair<string, string> field in Engine)
        {
            if (field.Key.Equals(key, StringComparison.OrdinalIgnoreCase)) value = StringValues.Concat(value, field.Value);
        }
        return value.Count > 0;
    }

    public bool Remove(string key)
    {
        CheckWritable();
        return Engine.Remove(key);
    }

    public bool Remove(KeyValuePair<string, StringValues> item) => Contains(item) && Remove(item.Key);

    public void Clear()
    {
        CheckWritable();
        foreach (string name in Names().ToList()) Engine.Remove(name);
    }

    public void CopyTo(KeyValuePair<string, StringValues>[] array, int arrayIndex)
    {
        foreach (KeyValuePair<string, StringValues> field in this) array[arrayIndex++] = field;
    }

    public IEnumerator<KeyValuePair<string, StringValues>> GetEnumerator()
    {
        foreach (string name in Names().ToList()) yield return new KeyValuePair<string, StringValues>(name, this[name]);
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    // The field names in the order they were first set, each once.
    private IEnumerable<string> Names()
    {
        if (!features.IsBound) return [];
        return Engine.Select(field => field.Key).Distinct(StringComparer.OrdinalIgnoreCase);
    }

    private void CheckWritable()
    {
        if (IsReadOnly) throw new InvalidOperationException("Trailers are not supported for this response, or the response has ended.");
    }
}
