using System.Runtime.InteropServices;
using Parley.Http1;

namespace Parley.Tests.Http1;

/// <summary>
/// Which version of <see cref="WellFormedHead"/>'s classification this run tests. The test command runs
/// the Http1, conformance and fuzz tests once per vector width by turning the runtime's instruction sets
/// off (DOTNET_EnableAVX512=0, DOTNET_EnableAVX2=0, DOTNET_EnableHWIntrinsic=0; DOTNET_PreferredVectorBitWidth=256
/// or 128 is followed too); this checks that each run really took the path its environment asks for, so a
/// knob the runtime ignores cannot make a rerun test the same path again.
/// </summary>
public class VectorWidthTests
{
    [Fact]
    public void The_active_vector_width_is_the_widest_the_CPU_and_the_runtime_settings_allow()
    {
        int expected = WidestOfCpu();
        if (Off("DOTNET_EnableAVX512")) expected = Math.Min(expected, 256);
        if (Off("DOTNET_EnableAVX2") || Off("DOTNET_EnableAVX")) expected = Math.Min(expected, 128);
        // A preferred width below 512 (DOTNET_PreferredVectorBitWidth, decimal) turns the wider vectors' acceleration off.
        string? preferred = Environment.GetEnvironmentVariable("DOTNET_PreferredVectorBitWidth");
        if (preferred is "256") expected = Math.Min(expected, 256);
        if (preferred is "128") expected = Math.Min(expected, 128);
        if (Off("DOTNET_EnableHWIntrinsic")) expected = 0;
        Assert.Equal(expected, WellFormedHead.ActiveVectorWidth);
        Assert.Equal(expected != 0, WellFormedHead.IsSupported);
        // The test command names the width it meant each run to have; the run must have had it.
        if (Environment.GetEnvironmentVariable("PARLEY_EXPECT_VECTOR_WIDTH") is { Length: > 0 } asked)
        {
            Assert.Equal(int.Parse(asked, System.Globalization.CultureInfo.InvariantCulture), WellFormedHead.ActiveVectorWidth);
        }
    }

    private static bool Off(string knob) => Environment.GetEnvironmentVariable(knob) == "0";

    // From the kernel's view of the CPU, not from the runtime's: 512 needs AVX-512 with VBMI (its byte
    // permute), 256 AVX2; every x64 and Arm64 CPU has 128-bit vectors.
    private static int WidestOfCpu()
    {
        if (RuntimeInformation.ProcessArchitecture != Architecture.X64) return 128;
        string flags = File.ReadLines("/proc/cpuinfo").First(line => line.StartsWith("flags", StringComparison.Ordinal));
        HashSet<string> has = [.. flags[(flags.IndexOf(':') + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries)];
        if (has.IsSupersetOf(["avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl", "avx512vbmi"])) return 512;
        return has.Contains("avx2") ? 256 : 128;
    }
}
