namespace Parley.Http1;

/// <summary>
/// Splits <c>application/x-www-form-urlencoded</c> bytes (a form body or a query string) into raw, still
/// encoded name/value pairs, as the WHATWG URL Standard §5.1 steps 1-3.3 do: split on '&amp;', skip empty
/// sequences, and cut each at its first '=' (no '=' means an empty value). Decoding is the caller's
/// (<see cref="PercentEncoding"/> with '+' as space).
/// </summary>
internal ref struct UrlEncodedPairs(ReadOnlySpan<byte> input)
{
    private ReadOnlySpan<byte> _rest = input;

    /// <summary>Reads the next pair; false when none is left.</summary>
    public bool TryRead(out ReadOnlySpan<byte> name, out ReadOnlySpan<byte> value)
    {
        while (!_rest.IsEmpty)
        {
            int amp = _rest.IndexOf((byte)'&');
            ReadOnlySpan<byte> pair = amp < 0 ? _rest : _rest[..amp];
            _rest = amp < 0 ? default : _rest[(amp + 1)..];
            if (pair.IsEmpty) continue;
            int eq = pair.IndexOf((byte)'=');
            name = eq < 0 ? pair : pair[..eq];
            value = eq < 0 ? default : pair[(eq + 1)..];
            return true;
        }
        name = value = default;
        return false;
    }
}
