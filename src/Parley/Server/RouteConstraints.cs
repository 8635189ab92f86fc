using System.Buffers;
using System.Globalization;
using Parley.Http1;

namespace Parley.Server;

/// <summary>What a route parameter's value must be, written after a colon: <c>{id:int}</c>.</summary>
internal enum RouteConstraint : byte
{
    None,
    // Decimal digits with an optional leading sign, within Int32.
    Int,
    // Decimal digits with an optional leading sign, within Int64.
    Long,
    // Anything Guid.TryParse reads: 32 hex digits, with or without hyphens, braces or parentheses.
    Guid,
    // One or more ASCII letters.
    Alpha,
    // true or false, in any case.
    Bool,
}

/// <summary>Checks a raw (percent-encoded) segment against a <see cref="RouteConstraint"/>, without allocating.</summary>
internal static class RouteConstraints
{
    /// <summary>The constraint names, for messages.</summary>
    public const string Names = "int, long, guid, alpha, bool";

    private const int StackLimit = 128;

    public static bool TryParse(string name, out RouteConstraint constraint)
    {
        constraint = name switch
        {
            "int" => RouteConstraint.Int,
            "long" => RouteConstraint.Long,
            "guid" => RouteConstraint.Guid,
            "alpha" => RouteConstraint.Alpha,
            "bool" => RouteConstraint.Bool,
            _ => RouteConstraint.None,
        };
        return constraint != RouteConstraint.None;
    }

    public static string NameOf(RouteConstraint constraint) => constraint.ToString().ToLowerInvariant();

    /// <summary>Whether the percent-decoded <paramref name="raw"/> segment satisfies <paramref name="constraint"/>.</summary>
    public static bool Accepts(RouteConstraint constraint, ReadOnlySpan<byte> raw)
    {
        if (constraint == RouteConstraint.None) return true;
        if (raw.IndexOf((byte)'%') < 0) return AcceptsDecoded(constraint, raw);
        byte[]? rented = null;
        Span<byte> scratch = raw.Length <= StackLimit ? stackalloc byte[StackLimit] : (rented = ArrayPool<byte>.Shared.Rent(raw.Length));
        try
        {
            return AcceptsDecoded(constraint, scratch[..PercentEncoding.Decode(raw, scratch, plusAsSpace: false)]);
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private static bool AcceptsDecoded(RouteConstraint constraint, ReadOnlySpan<byte> value)
    {
        const NumberStyles Integer = NumberStyles.AllowLeadingSign;
        switch (constraint)
        {
            case RouteConstraint.Int: return int.TryParse(value, Integer, CultureInfo.InvariantCulture, out _);
            case RouteConstraint.Long: return long.TryParse(value, Integer, CultureInfo.InvariantCulture, out _);
            case RouteConstraint.Alpha:
                foreach (byte b in value)
                {
                    if (!char.IsAsciiLetter((char)b)) return false;
                }
                return !value.IsEmpty;
            case RouteConstraint.Bool:
                return System.Text.Ascii.EqualsIgnoreCase(value, "true"u8) || System.Text.Ascii.EqualsIgnoreCase(value, "false"u8);
            case RouteConstraint.Guid:
                // The longest form, "{0x00000000,0x0000,0x0000,{0x00,...}}", is 68 characters.
                if (value.Length > 68) return false;
                Span<char> chars = stackalloc char[68];
                for (int i = 0; i < value.Length; i++)
                {
                    if (value[i] >= 0x80) return false;
                    chars[i] = (char)value[i];
                }
                return System.Guid.TryParse(chars[..value.Length], out _);
            default: return false;
        }
    }
}
