namespace Parley.Content;

/// <summary>Limits applied by <see cref="RangeHeader.Parse"/>; a header exceeding one is ignored.</summary>
public sealed record RangeLimits
{
    /// <summary>The defaults: 16 ranges, 2 overlapping ranges.</summary>
    public static RangeLimits Default { get; } = new();

    /// <summary>Maximum number of range-specs in one header. Default 16.</summary>
    public int MaxRanges { get; init; } = 16;

    /// <summary>
    /// Maximum number of satisfiable ranges that overlap another range of the same header. Default 2,
    /// so <c>bytes=0-,0-</c> is served but three mutually overlapping ranges are not.
    /// </summary>
    public int MaxOverlappingRanges { get; init; } = 2;
}
