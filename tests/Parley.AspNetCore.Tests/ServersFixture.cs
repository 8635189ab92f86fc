namespace Parley.AspNetCore.Tests;

/// <summary>The same application started once on each server kind, for the whole test class.</summary>
public sealed class ServersFixture : IAsyncLifetime
{
    private readonly Dictionary<ServerKind, CompatApp> _apps = [];

    public string Root { get; } = Path.Combine(Path.GetTempPath(), "parley-aspnet-" + Guid.NewGuid().ToString("N"));

    public byte[] DataFile { get; } = MakeData(300 * 1024);

    public CompatApp this[ServerKind kind] => _apps[kind];

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Path.Combine(Root, "wwwroot", "css"));
        await File.WriteAllBytesAsync(Path.Combine(Root, "data.bin"), DataFile);
        await File.WriteAllTextAsync(Path.Combine(Root, "wwwroot", "index.html"), "<!DOCTYPE html><title>compat</title><p>static page</p>\n");
        await File.WriteAllTextAsync(Path.Combine(Root, "wwwroot", "css", "site.css"), string.Concat(Enumerable.Repeat("body { color: #123456; }\n", 200)));
        foreach (ServerKind kind in Enum.GetValues<ServerKind>()) _apps[kind] = await CompatApp.StartAsync(kind, Root);
    }

    public async Task DisposeAsync()
    {
        foreach (CompatApp app in _apps.Values) await app.DisposeAsync();
        Directory.Delete(Root, recursive: true);
    }

    private static byte[] MakeData(int length)
    {
        byte[] data = new byte[length];
        new Random(19).NextBytes(data);
        return data;
    }
}
