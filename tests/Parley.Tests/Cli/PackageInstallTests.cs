using System.IO.Compression;
using System.Text.RegularExpressions;
using Parley.Tests.Interop;
using Parley.Tests.Server;

namespace Parley.Tests.Cli;

/// <summary>
/// `dotnet pack` makes the library package and the tool package, and the tool installs from them as a user
/// would install it (`dotnet tool install --tool-path`), answers --version, and fetches a page.
/// </summary>
public class PackageInstallTests
{
    private static readonly TimeSpan Slow = TimeSpan.FromMinutes(5);

    [Fact]
    public async Task The_packages_install_and_the_installed_tool_runs()
    {
        string root = RepositoryRoot(out string configuration);
        string work = Directory.CreateTempSubdirectory("parley-pack-").FullName;
        try
        {
            string packages = Path.Combine(work, "packages");
            // The build is the one the tests run on; packing it again must not rebuild under a running suite.
            foreach (string project in new[] { "src/Parley/Parley.csproj", "src/Parley.Cli/Parley.Cli.csproj" })
            {
                ToolResult pack = await ExternalTool.RunAsync("dotnet",
                    ["pack", Path.Combine(root, project), "-c", configuration, "--no-build", "-o", packages, "--nologo"], Slow);
                Assert.True(pack.ExitCode == 0, $"dotnet pack {project} failed:\n{pack.StdOut}\n{pack.StdErr}");
            }

            string library = Assert.Single(Directory.GetFiles(packages, "Parley.*.nupkg"), p => !Path.GetFileName(p).StartsWith("Parley.Cli.", StringComparison.Ordinal));
            string tool = Assert.Single(Directory.GetFiles(packages, "Parley.Cli.*.nupkg"));
            string version = Regex.Match(Path.GetFileName(tool), @"^Parley\.Cli\.(.+)\.nupkg$").Groups[1].Value;
            string repository = await RepositoryElementAsync(root);
            AssertMetadata(library, "Parley", version, repository, expectTool: false);
            AssertMetadata(tool, "Parley.Cli", version, repository, expectTool: true);

            // A private NuGet cache, so that an older package of the same version cached elsewhere is not used.
            var environment = new Dictionary<string, string?> { ["NUGET_PACKAGES"] = Path.Combine(work, "nuget-cache") };
            string toolPath = Path.Combine(work, "tools");
            ToolResult install = await ExternalTool.RunAsync("dotnet",
                ["tool", "install", "Parley.Cli", "--version", version, "--tool-path", toolPath, "--add-source", packages, "--ignore-failed-sources"],
                Slow, environment: environment);
            Assert.True(install.ExitCode == 0, $"dotnet tool install failed:\n{install.StdOut}\n{install.StdErr}");
            string parley = Path.Combine(toolPath, "parley");

            ToolResult versionResult = await ExternalTool.RunAsync(parley, ["--version"], Slow);
            Assert.Equal(0, versionResult.ExitCode);
            Assert.Matches($@"^parley {Regex.Escape(version)} \(\.NET \d+\.\d+\.\d+.*, [a-z0-9-]+, JIT\)$", versionResult.StdOut.Trim());

            await using TestServer server = await TestServer.StartAsync((request, response) =>
            {
                response.WriteText($"hello from {request.Path}");
                return ValueTask.CompletedTask;
            });
            ToolResult get = await ExternalTool.RunAsync(parley, ["get", $"{server.BaseUri}installed"], Slow);
            Assert.True(get.ExitCode == 0, get.StdErr);
            Assert.Equal("hello from /installed", get.StdOut);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>
    /// The repository link the packages must carry: the commit they were built from and, when the clone's
    /// <c>origin</c> is a hosted repository (http or https), its URL.
    /// </summary>
    private static async Task<string> RepositoryElementAsync(string root)
    {
        ToolResult head = await ExternalTool.RunAsync("git", ["-C", root, "rev-parse", "HEAD"], Slow);
        Assert.True(head.ExitCode == 0, head.StdErr);
        ToolResult origin = await ExternalTool.RunAsync("git", ["-C", root, "remote", "get-url", "origin"], Slow);
        string url = origin.StdOut.Trim();
        return url.StartsWith("http", StringComparison.Ordinal)
            ? $"<repository type=\"git\" url=\"{url}\" "
            : $"commit=\"{head.StdOut.Trim()}\"";
    }

    private static void AssertMetadata(string package, string id, string version, string repository, bool expectTool)
    {
        using ZipArchive zip = ZipFile.OpenRead(package);
        Assert.NotNull(zip.GetEntry("README.md"));
        Assert.NotNull(zip.GetEntry("LICENSE"));
        ZipArchiveEntry nuspecEntry = Assert.Single(zip.Entries, e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal));
        using var reader = new StreamReader(nuspecEntry.Open());
        string nuspec = reader.ReadToEnd();
        Assert.Contains($"<id>{id}</id>", nuspec);
        Assert.Contains($"<version>{version}</version>", nuspec);
        Assert.Contains("<license type=\"expression\">MIT</license>", nuspec);
        Assert.Contains("<readme>README.md</readme>", nuspec);
        Assert.Matches("<description>.{40,}</description>", nuspec);
        Assert.Contains("<tags>", nuspec);
        Assert.Contains("<repository type=\"git\"", nuspec);
        Assert.Contains(repository, nuspec);
        Assert.Equal(expectTool, nuspec.Contains("<packageType name=\"DotnetTool\" />", StringComparison.Ordinal));
    }

    /// <summary>tests/Parley.Tests/bin/{Configuration}/{framework}/ -> the repository root.</summary>
    private static string RepositoryRoot(out string configuration)
    {
        var bin = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/'));
        configuration = bin.Parent!.Name;
        return bin.Parent!.Parent!.Parent!.Parent!.Parent!.FullName;
    }
}
