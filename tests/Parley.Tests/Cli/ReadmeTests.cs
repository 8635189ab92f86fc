using System.Text.RegularExpressions;

namespace Parley.Tests.Cli;

/// <summary>
/// README.md stays true: its C# quick starts are the sample programs the solution builds, and the paths
/// its commands name exist in a clone. <see cref="ReadmeCommandTests"/> runs the commands.
/// </summary>
public class ReadmeTests
{
    private static readonly string Root = RepositoryRoot();
    private static readonly string Readme = File.ReadAllText(Path.Combine(Root, "README.md")).ReplaceLineEndings("\n");

    [Theory]
    [InlineData("samples/ServerQuickStart/Program.cs")]
    [InlineData("samples/ClientQuickStart/Program.cs")]
    [InlineData("samples/AspNetCoreQuickStart/Program.cs")]
    public void A_csharp_block_of_the_README_is_the_sample_program_verbatim(string sample)
    {
        string program = File.ReadAllText(Path.Combine(Root, sample)).ReplaceLineEndings("\n");
        List<string> blocks = Blocks("csharp");
        Assert.True(blocks.Contains(program),
            $"README.md has no ```csharp block equal to {sample}; copy the file into README.md (or the block into the file).");
    }

    [Fact]
    public void Every_csharp_block_of_the_README_is_a_sample_the_build_compiles()
    {
        string[] samples = Directory.GetFiles(Path.Combine(Root, "samples"), "Program.cs", SearchOption.AllDirectories)
            .Select(path => File.ReadAllText(path).ReplaceLineEndings("\n")).ToArray();
        foreach (string block in Blocks("csharp"))
        {
            Assert.True(samples.Contains(block), $"this README block is not a file under samples/, so nothing compiles it:\n{block}");
        }
    }

    [Fact]
    public void Every_path_a_README_command_names_exists_in_the_repository()
    {
        var missing = new List<string>();
        foreach (string line in Blocks("sh").SelectMany(block => block.Split('\n')))
        {
            foreach (Match path in Regex.Matches(line, @"(?<![\w/.-])(?:\./[\w.-]+|(?:src|samples|scripts|docs|tests|bench))(?:/[\w.-]+)*"))
            {
                if (!File.Exists(Path.Combine(Root, path.Value)) && !Directory.Exists(Path.Combine(Root, path.Value))) missing.Add($"{path.Value} (in: {line})");
            }
        }
        Assert.True(missing.Count == 0, $"README.md names paths a clone does not have:\n{string.Join("\n", missing)}");
    }

    /// <summary>The contents of every fenced block of a language, each ending with a newline.</summary>
    private static List<string> Blocks(string language) =>
        Regex.Matches(Readme, $@"^```{language}\n(.*?)^```", RegexOptions.Multiline | RegexOptions.Singleline)
            .Select(match => match.Groups[1].Value).ToList();

    private static string RepositoryRoot()
    {
        var bin = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/'));
        return bin.Parent!.Parent!.Parent!.Parent!.Parent!.FullName;
    }
}
