using System.Runtime.CompilerServices;
using Parley.Server;

namespace Parley.Tests.PublicApi;

/// <summary>
/// The public API is a promise: PublicApi.txt next to this file lists it, and a change to it must change that
/// list in the same commit, where a reviewer sees it.
/// </summary>
public class PublicApiTests
{
    private static readonly string[] UserNamespaces =
        ["Parley", "Parley.Client", "Parley.Content", "Parley.Content.StaticFiles", "Parley.Server"];

    [Fact]
    public void The_public_surface_is_the_one_listed_in_PublicApi_txt()
    {
        string listPath = Path.Combine(SourceDirectory(), "PublicApi.txt");
        string actual = PublicSurface.Describe(typeof(HttpServer).Assembly);
        string listed = File.Exists(listPath) ? File.ReadAllText(listPath).ReplaceLineEndings("\n") : "";
        if (actual == listed) return;

        string receivedPath = Path.Combine(Path.GetTempPath(), $"Parley.PublicApi.{Environment.ProcessId}.txt");
        File.WriteAllText(receivedPath, actual);
        List<string> actualLines = Qualified(actual), listedLines = Qualified(listed);
        IEnumerable<string> added = actualLines.Except(listedLines).Select(line => "+ " + line);
        IEnumerable<string> removed = listedLines.Except(actualLines).Select(line => "- " + line);
        Assert.Fail(
            "The public API of the Parley library changed (tests/Parley.Tests/PublicApi/PublicApi.txt); first differences:\n" +
            string.Join("\n", removed.Concat(added).Take(40)) + "\n" +
            "If the change is intended, make sure each new public member needs to be public and has a doc comment, then update the list:\n" +
            $"    cp {receivedPath} {listPath}\n" +
            "and commit it with the change.");
    }

    [Fact]
    public void Public_types_live_in_the_namespaces_users_import_and_Http1_stays_internal()
    {
        var misplaced = typeof(HttpServer).Assembly.GetExportedTypes()
            .Where(type => !UserNamespaces.Contains(type.Namespace))
            .Select(type => type.FullName)
            .ToList();
        Assert.True(misplaced.Count == 0, $"public types outside {string.Join(", ", UserNamespaces)}: {string.Join(", ", misplaced)}");
    }

    /// <summary>Each member line prefixed with its type's header, so that a difference says where it is.</summary>
    private static List<string> Qualified(string surface)
    {
        var lines = new List<string>();
        string type = "";
        foreach (string line in surface.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.StartsWith(' ')) lines.Add($"{type} :: {line.Trim()}");
            else lines.Add(type = line);
        }
        return lines;
    }

    private static string SourceDirectory([CallerFilePath] string thisFile = "") => Path.GetDirectoryName(thisFile)!;
}
