using System.Globalization;
using System.Text;

namespace Parley.Tests.Conformance;

/// <summary>
/// docs/conformance-matrix.md is <see cref="ConformanceTable.Cases"/> rendered as Markdown, so the document a
/// reader checks is the table the suite runs. The test fails when a row changes and the document does not;
/// <c>PARLEY_UPDATE_DOCS=1</c> rewrites it.
/// </summary>
public class ConformanceMatrixDocumentTests
{
    private const string RelativePath = "docs/conformance-matrix.md";
    private const int MaxRuleLength = 200;

    [Fact]
    public void Docs_conformance_matrix_is_the_table_the_suite_runs()
    {
        string path = Path.Combine(FindRepositoryRoot(), RelativePath);
        string expected = Render(ConformanceTable.Cases);
        if (Environment.GetEnvironmentVariable("PARLEY_UPDATE_DOCS") == "1") File.WriteAllText(path, expected);
        string actual = File.Exists(path) ? File.ReadAllText(path).ReplaceLineEndings("\n") : "";
        Assert.True(actual == expected,
            $"{RelativePath} does not list the conformance table's current rows. Rewrite it with " +
            "PARLEY_UPDATE_DOCS=1 dotnet test tests/Parley.Tests/Parley.Tests.csproj --filter FullyQualifiedName~ConformanceMatrixDocument");
    }

    [Fact]
    public void Rendering_lists_each_row_under_its_section_with_status_and_connection()
    {
        ConformanceCase[] rows =
        [
            new("9112-7.1 two chunks", "", 200, After.Open, "RFC 9112 §7.1: grammar"),
            new("9110-5.5 NUL in a value", "", 400, After.Closed, "RFC 9110 §5.5: a | bar"),
            new("9112-2.2 pipelined pair", "", 200, After.Open, "RFC 9112 §2.2: x", Responses: 2),
        ];
        string text = Render(rows);
        Assert.Contains("| [RFC 9112 §2](#rfc-9112-2) | 1 | 1 | 0 |", text);
        Assert.Contains("| §7.1 | two chunks | 200, kept open | RFC 9112 §7.1: grammar |", text);
        Assert.Contains("| §5.5 | NUL in a value | 400, closed | RFC 9110 §5.5: a \\| bar |", text);
        Assert.Contains("| §2.2 | pipelined pair | 200, kept open (2 responses) | RFC 9112 §2.2: x |", text);
        Assert.True(text.IndexOf("## RFC 9112 §7", StringComparison.Ordinal) < text.IndexOf("## RFC 9110 §5", StringComparison.Ordinal));
    }

    /// <summary>The document: a count per section, then one table per RFC section in the order of the RFCs.</summary>
    internal static string Render(IReadOnlyList<ConformanceCase> cases)
    {
        var sections = cases
            .Select((c, index) => (Case: c, Index: index, Key: SectionKey(c.Id)))
            .GroupBy(r => (r.Key.Rfc, r.Key.Top))
            .OrderBy(g => RfcOrder(g.Key.Rfc)).ThenBy(g => g.Key.Top)
            .ToList();
        var text = new StringBuilder();
        text.Append("# Conformance matrix\n\n");
        text.Append("Every row of the raw-socket conformance suite (`tests/Parley.Tests/Conformance`), generated from the\n");
        text.Append("table the suite runs by `ConformanceMatrixDocumentTests`, which fails when the two differ. Each row runs on\n");
        text.Append("both transports; how a row is checked (the probe behind it, closed or kept open) is in\n");
        text.Append("[hardening.md](hardening.md#how-a-conformance-row-is-checked). A rule longer than ")
            .Append(MaxRuleLength.ToString(CultureInfo.InvariantCulture)).Append(" characters is cut (…); the whole\n");
        text.Append("sentence is in the test source.\n\n");
        text.Append("| Section | Rows | Answered, kept open | Answered, closed |\n|---|---|---|---|\n");
        foreach (var section in sections)
        {
            string title = $"RFC {section.Key.Rfc} §{section.Key.Top}";
            int open = section.Count(r => r.Case.Connection == After.Open);
            text.Append(CultureInfo.InvariantCulture, $"| [{title}](#rfc-{section.Key.Rfc}-{section.Key.Top}) | {section.Count()} | {open} | {section.Count() - open} |\n");
        }
        int allOpen = cases.Count(c => c.Connection == After.Open);
        text.Append(CultureInfo.InvariantCulture, $"| all | {cases.Count} | {allOpen} | {cases.Count - allOpen} |\n");
        foreach (var section in sections)
        {
            text.Append(CultureInfo.InvariantCulture, $"\n## RFC {section.Key.Rfc} §{section.Key.Top}\n\n");
            text.Append("| § | Case | Outcome | Rule |\n|---|---|---|---|\n");
            foreach (var row in section.OrderBy(r => r.Index))
            {
                ConformanceCase c = row.Case;
                string outcome = $"{c.Status}, {(c.Connection == After.Open ? "kept open" : "closed")}" +
                    (c.Responses > 1 ? $" ({c.Responses} responses)" : "");
                text.Append(CultureInfo.InvariantCulture,
                    $"| §{row.Key.Section} | {Cell(row.Key.Description)} | {outcome} | {Cell(Shorten(c.Citation))} |\n");
            }
        }
        return text.ToString();
    }

    /// <summary>"9112-7.1.1 name" is RFC 9112, top section 7, section 7.1.1, description "name".</summary>
    private static (string Rfc, int Top, string Section, string Description) SectionKey(string id)
    {
        int dash = id.IndexOf('-');
        int space = id.IndexOf(' ');
        string section = id[(dash + 1)..space];
        int dot = section.IndexOf('.');
        int top = int.Parse(dot < 0 ? section : section[..dot], CultureInfo.InvariantCulture);
        return (id[..dash], top, section, id[(space + 1)..]);
    }

    // HTTP/1.1 (RFC 9112) first, then HTTP semantics (RFC 9110), then the rest in number order.
    private static int RfcOrder(string rfc) => rfc switch { "9112" => 0, "9110" => 1, _ => 2 + int.Parse(rfc, CultureInfo.InvariantCulture) };

    private static string Shorten(string rule) => rule.Length <= MaxRuleLength ? rule : rule[..(MaxRuleLength - 1)].TrimEnd() + "…";

    private static string Cell(string text) => text.Replace("|", "\\|").Replace("\r", " ").Replace("\n", " ");

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Parley.slnx"))) return dir.FullName;
        }
        throw new InvalidOperationException($"no parent of {AppContext.BaseDirectory} holds Parley.slnx");
    }
}
