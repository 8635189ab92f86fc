using System.Text.Json.Serialization;

namespace Parley.Bench;

/// <summary>What both .NET bench apps serve and how they find their port and data folder.</summary>
internal static class BenchData
{
    public const int FileSize = 1024 * 1024;

    /// <summary>The port: first argument, else BENCH_PORT, else the default given.</summary>
    public static int Port(string[] args, int fallback) =>
        args.Length > 0 ? int.Parse(args[0]) :
        Environment.GetEnvironmentVariable("BENCH_PORT") is { Length: > 0 } port ? int.Parse(port) : fallback;

    /// <summary>
    /// Creates (once) the 1 MiB file under BENCH_DATA_DIR, or a temp folder, and returns its path. The bytes
    /// are deterministic so every server sends the same content.
    /// </summary>
    public static string EnsureFile()
    {
        string dir = Environment.GetEnvironmentVariable("BENCH_DATA_DIR") is { Length: > 0 } configured
            ? configured
            : Path.Combine(Path.GetTempPath(), "parley-bench");
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, "file.bin");
        if (!File.Exists(path) || new FileInfo(path).Length != FileSize)
        {
            byte[] bytes = new byte[FileSize];
            new Random(20261124).NextBytes(bytes);
            string temp = path + "." + Environment.ProcessId + ".tmp";
            File.WriteAllBytes(temp, bytes);
            File.Move(temp, path, overwrite: true);
        }
        return path;
    }
}

/// <summary>The TechEmpower json payload.</summary>
internal sealed class JsonMessage
{
    public string Message { get; set; } = "";
}

/// <summary>Source-generated serializer metadata: no reflection at run time.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(JsonMessage))]
internal sealed partial class BenchJsonContext : JsonSerializerContext
{
}
