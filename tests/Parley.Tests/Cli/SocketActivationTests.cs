using System.Diagnostics;
using System.Globalization;
using System.Net;
using Parley.Tests.Interop;
using Parley.Tests.Server;

namespace Parley.Tests.Cli;

/// <summary>
/// `parley serve` started the way systemd starts a socket-activated service: systemd-socket-activate (from
/// the systemd package) binds the port and passes the listening socket as descriptor 3 with LISTEN_FDS and
/// LISTEN_PID.
/// </summary>
public class SocketActivationTests
{
    private static string CliAssembly => Path.Combine(AppContext.BaseDirectory, "Parley.Cli.dll");

    [Fact]
    public async Task Serve_accepts_on_the_socket_systemd_passed_it()
    {
        if (!OperatingSystem.IsLinux()) return;
        int port = Loopback.FreePort();
        // The activator listens at once and starts the program on the first connection.
        await using RunningTool server = ExternalTool.Start("systemd-socket-activate",
            ["-l", $"127.0.0.1:{port}", "dotnet", CliAssembly, "serve", "--port", "1", "--quiet"]);
        await server.WaitForPortAsync(port, TimeSpan.FromSeconds(30));

        await using (RawConnection connection = await RawConnection.OpenAsync(new IPEndPoint(IPAddress.Loopback, port)))
        {
            await connection.SendAsync("GET /moved HTTP/1.1\r\nHost: x\r\n\r\n");
            RawResponse response = await connection.ReadResponseAsync(timeout: TimeSpan.FromSeconds(30));
            Assert.Equal(301, response.StatusCode);
        }
        // --port 1 was not bound (it would need privileges a test has not): the passed socket was served.
        // The line is printed once the server has started, so it may come after the first answer.
        await server.WaitForOutputAsync($"listening on http://127.0.0.1:{port}/", TimeSpan.FromSeconds(30));

        Process.Start("kill", ["-TERM", server.ProcessId.ToString(CultureInfo.InvariantCulture)]).WaitForExit();
        Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(15)));
    }

    [Fact]
    public async Task Serve_ignores_LISTEN_FDS_meant_for_another_process()
    {
        int port = Loopback.FreePort();
        // As a child of a socket-activated service would inherit them: LISTEN_PID names the parent.
        await using RunningTool server = ExternalTool.Start("dotnet", [CliAssembly, "serve", "--port", port.ToString(CultureInfo.InvariantCulture), "--quiet"],
            environment: new Dictionary<string, string?> { ["LISTEN_FDS"] = "1", ["LISTEN_PID"] = Environment.ProcessId.ToString(CultureInfo.InvariantCulture) });
        await server.WaitForPortAsync(port, TimeSpan.FromSeconds(30));
        await server.WaitForOutputAsync($"listening on http://127.0.0.1:{port}/", TimeSpan.FromSeconds(30));
    }
}
