namespace Parley.AspNetCore;

/// <summary>
/// The strings made for the request lines of the previous request a pooled object served, by position,
/// with the bytes they came from: a client sends the same fields in the same order on every request of a
/// connection (Host, User-Agent, Accept ...), so each is decoded once instead of once per request. A
/// string is immutable, so handing the same one to a later request is safe even when an application kept
/// it. Only short lines are kept, in a bounded number of slots.
/// </summary>
internal sealed class RecentStrings(int slots, int maxBytes)
{
    private readonly byte[]?[] _bytes = new byte[slots][];
    private readonly int[] _lengths = new int[slots];
    private readonly string?[] _strings = new string?[slots];

    /// <summary>The string remembered at <paramref name="slot"/> when it was made from exactly <paramref name="raw"/>.</summary>
    public string? Find(int slot, ReadOnlySpan<byte> raw)
    {
        if ((uint)slot >= (uint)_strings.Length || _strings[slot] is not { } text || _lengths[slot] != raw.Length) return null;
        return raw.SequenceEqual(_bytes[slot].AsSpan(0, raw.Length)) ? text : null;
    }

    /// <summary>Remembers <paramref name="text"/>, made from <paramref name="raw"/>, at <paramref name="slot"/>.</summary>
    public void Remember(int slot, ReadOnlySpan<byte> raw, string text)
    {
        if ((uint)slot >= (uint)_strings.Length || raw.Length > maxBytes) return;
        byte[]? bytes = _bytes[slot];
        if (bytes is null || bytes.Length < raw.Length) _bytes[slot] = bytes = new byte[Math.Max(raw.Length, 16)];
        raw.CopyTo(bytes);
        _lengths[slot] = raw.Length;
        _strings[slot] = text;
    }
}
