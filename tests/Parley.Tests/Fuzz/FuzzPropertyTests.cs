using Parley.Fuzz;

namespace Parley.Tests.Fuzz;

/// <summary>
/// The bounded fuzz run CI does: each target's harness (fuzz/Parley.Fuzz/FuzzTargets.cs, the same code AFL++
/// drives) over the committed seed corpus and thousands of deterministic mutations of it. A target fails
/// on any exception, including a broken property (split-at-any-offset equivalence, limits).
/// </summary>
public class FuzzPropertyTests
{
    private const int Mutations = 10_000;

    private static readonly byte[][] Tokens =
    [
        "\r\n"u8.ToArray(), "\n"u8.ToArray(), "\r"u8.ToArray(), ":"u8.ToArray(), ";"u8.ToArray(), "="u8.ToArray(), " "u8.ToArray(), "\t"u8.ToArray(),
        "\0"u8.ToArray(), ","u8.ToArray(), "\""u8.ToArray(), "0"u8.ToArray(), "f"u8.ToArray(), "ffffffffffffffffff"u8.ToArray(),
        "Content-Length: "u8.ToArray(), "Transfer-Encoding: chunked"u8.ToArray(), "99999999999999999999"u8.ToArray(), "--b"u8.ToArray(),
        "%"u8.ToArray(), "-"u8.ToArray(), "bytes="u8.ToArray(),
    ];

    public static TheoryData<string> Targets => [.. FuzzTargets.Names];

    private static string CorpusDirectory(string target)
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "fuzz", "corpus", target);
            if (Directory.Exists(candidate)) return candidate;
        }
        throw new DirectoryNotFoundException($"fuzz/corpus/{target} not found above {AppContext.BaseDirectory}");
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void Seed_corpus_and_deterministic_mutations_keep_every_property(string target)
    {
        byte[][] seeds = Directory.GetFiles(CorpusDirectory(target)).Order(StringComparer.Ordinal).Select(File.ReadAllBytes).ToArray();
        Assert.NotEmpty(seeds);
        var random = new Random(6);
        // Bounded by its count of executions, not by the clock: speed belongs to the benchmarks.
        foreach (byte[] seed in seeds) RunOrReport(target, seed);
        for (int i = 0; i < Mutations; i++)
        {
            byte[] input = Mutate(seeds[random.Next(seeds.Length)], random);
            RunOrReport(target, input);
        }
    }

    private static void RunOrReport(string target, byte[] input)
    {
        try
        {
            FuzzTargets.Run(target, input);
        }
        catch (Exception ex)
        {
            Assert.Fail($"{target} failed on input {Convert.ToBase64String(input)}: {ex.GetType().Name}: {ex.Message}");
        }
    }

    private static byte[] Mutate(byte[] seed, Random random)
    {
        var data = new List<byte>(seed);
        int edits = 1 + random.Next(4);
        for (int e = 0; e < edits; e++)
        {
            int at = data.Count == 0 ? 0 : random.Next(data.Count + 1);
            switch (random.Next(5))
            {
                case 0 when data.Count > 0:
                    data[Math.Min(at, data.Count - 1)] ^= (byte)(1 << random.Next(8));
                    break;
                case 1 when data.Count > 0:
                    data.RemoveRange(Math.Min(at, data.Count - 1), Math.Min(1 + random.Next(4), data.Count - Math.Min(at, data.Count - 1)));
                    break;
                case 2:
                    data.Insert(at, (byte)random.Next(256));
                    break;
                case 3:
                    data.InsertRange(at, Tokens[random.Next(Tokens.Length)]);
                    break;
                default:
                    if (data.Count > 0)
                    {
                        int from = random.Next(data.Count), length = Math.Min(1 + random.Next(16), data.Count - from);
                        data.InsertRange(at, data.GetRange(from, length));
                    }
                    break;
            }
        }
        return data.Count > 1024 ? data.GetRange(0, 1024).ToArray() : data.ToArray();
    }
}
