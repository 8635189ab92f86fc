using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Parley.Server;

namespace Parley.Cli;

/// <summary>
/// <c>parley serve --workers N</c>: this process binds the port N times with SO_REUSEPORT (one listening
/// socket per worker slot, the kernel spreading new connections between them) and runs a worker process
/// per slot that inherits its slot's socket. The supervisor never accepts; it forwards SIGTERM and SIGINT
/// to the workers, replaces one that exits while it runs, and exits once they have all drained.
/// </summary>
/// <remarks>
/// The sockets belong to the supervisor, not to the workers, so that a worker going away loses nothing:
/// connections queued on its slot's socket (which the kernel would refuse if that socket closed) wait
/// there for the replacement, which inherits the same socket.
/// </remarks>
internal static class WorkerSupervisor
{
    // How a worker learns its sockets (descriptor numbers, comma-separated: the main listener, then the
    // redirect listener when there is one) and which process supervises it.
    private const string DescriptorsVariable = "PARLEY_WORKER_FDS";
    private const string SupervisorVariable = "PARLEY_WORKER_SUPERVISOR";
    private const int SIGTERM = 15;
    private const int SIGKILL = 9;
    private const int SIGHUP = 1;
    private static readonly TimeSpan QuickExit = TimeSpan.FromSeconds(5);
    private const int QuickFailuresBeforeGivingUp = 3;

    /// <summary>The sockets this process was given as a worker (main, then redirect); null when it is not one.</summary>
    public static IReadOnlyList<Socket>? TakeWorkerSockets()
    {
        string? descriptors = Environment.GetEnvironmentVariable(DescriptorsVariable);
        if (descriptors is null) return null;
        Environment.SetEnvironmentVariable(DescriptorsVariable, null);
        return descriptors.Split(',').Select(fd => new Socket(new SafeSocketHandle(int.Parse(fd, CultureInfo.InvariantCulture), ownsHandle: true))).ToArray();
    }

    /// <summary>
    /// Completes when the supervisor of this worker is gone (SIGKILLed, say), so that workers never outlive it
    /// and hold the port; never completes outside a worker.
    /// </summary>
    public static async Task SupervisorGoneAsync()
    {
        if (!int.TryParse(Environment.GetEnvironmentVariable(SupervisorVariable), NumberStyles.None, CultureInfo.InvariantCulture, out int supervisor))
        {
            await Task.Delay(Timeout.Infinite).ConfigureAwait(false);
        }
        // Orphans are adopted by another process: the parent changes.
        while (getppid() == supervisor) await Task.Delay(1000).ConfigureAwait(false);
    }

    /// <summary>
    /// Binds <paramref name="count"/> sockets on one address with SO_REUSEPORT (port 0: the first picks a port,
    /// the others share it); null after printing the reason when the address cannot be listened on, also
    /// when another process's SO_REUSEPORT sockets hold it.
    /// </summary>
    public static Socket[]? Bind(string host, int port, int count, TextWriter stderr)
    {
        IPAddress address = host switch
        {
            "*" or "" => IPAddress.IPv6Any,
            "localhost" => IPAddress.Loopback,
            _ => IPAddress.Parse(host.Trim('[', ']')),
        };
        string where = address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{address}]:{port}" : $"{address}:{port}";
        string Reason(SocketException ex) => ex.SocketErrorCode == SocketError.AddressAlreadyInUse ? "address already in use" : ex.Message;

        // The kernel lets any socket of the same user with SO_REUSEPORT join a port whose listeners all have
        // it, so a second `parley serve --workers` on this port would bind, and connections would be split
        // between two unrelated servers. A socket bound first without SO_REUSEPORT fails on a port that
        // anyone listens on; unlistened, it leaves nothing behind when closed.
        if (port != 0)
        {
            using var probe = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                if (address.Equals(IPAddress.IPv6Any)) probe.DualMode = true;
                SetFlag(probe, SO_REUSEADDR);
                probe.Bind(new IPEndPoint(address, port));
            }
            catch (SocketException ex)
            {
                stderr.WriteLine($"parley: cannot listen on {where}: {Reason(ex)}");
                return null;
            }
        }

        var sockets = new Socket[count];
        for (int i = 0; i < count; i++)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                if (address.Equals(IPAddress.IPv6Any)) socket.DualMode = true;
                SetFlag(socket, SO_REUSEADDR);
                SetFlag(socket, SO_REUSEPORT);
                socket.Bind(new IPEndPoint(address, port));
                socket.Listen(1024);
                port = ((IPEndPoint)socket.LocalEndPoint!).Port;
                sockets[i] = socket;
            }
            catch (SocketException ex)
            {
                socket.Dispose();
                foreach (Socket? bound in sockets) bound?.Dispose();
                stderr.WriteLine($"parley: cannot listen on {where}: {Reason(ex)}");
                return null;
            }
        }
        return sockets;
    }

    /// <summary>
    /// Runs one worker per slot (<paramref name="slots"/>[i] holds slot i's sockets) until SIGTERM or SIGINT,
    /// then until the workers have drained; 0 when they all stopped cleanly.
    /// </summary>
    public static async Task<int> RunAsync(Socket[][] slots, TimeSpan drainTimeout, TextWriter stderr)
    {
        var supervisor = new Supervisor(slots, stderr);
        using PosixSignalRegistration sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, context => { context.Cancel = true; supervisor.Stop(0); });
        using PosixSignalRegistration sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => { context.Cancel = true; supervisor.Stop(0); });
        // Log rotation: each worker reopens its access log.
        using PosixSignalRegistration sighup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context => { context.Cancel = true; supervisor.Signal(SIGHUP); });
        return await supervisor.RunAsync(drainTimeout).ConfigureAwait(false);
    }

    private sealed class Supervisor(Socket[][] slots, TextWriter stderr)
    {
        private readonly object _lock = new();
        private readonly Process?[] _workers = new Process?[slots.Length];
        private readonly TaskCompletionSource _stop = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _exitCode;

        public async Task<int> RunAsync(TimeSpan drainTimeout)
        {
            Task[] running = Enumerable.Range(0, slots.Length).Select(RunSlotAsync).ToArray();
            await _stop.Task.ConfigureAwait(false);
            Signal(SIGTERM);
            Task all = Task.WhenAll(running);
            // Each worker drains within its own timeout; one that hangs beyond it is killed.
            if (await Task.WhenAny(all, Task.Delay(drainTimeout + TimeSpan.FromSeconds(10))).ConfigureAwait(false) != all)
            {
                stderr.WriteLine("parley: a worker did not stop within the drain timeout; killing it");
                Signal(SIGKILL);
                await all.ConfigureAwait(false);
            }
            foreach (Socket socket in slots.SelectMany(sockets => sockets)) socket.Dispose();
            return _exitCode;
        }

        public void Stop(int exitCode)
        {
            lock (_lock)
            {
                if (_stop.Task.IsCompleted) return;
                _exitCode = exitCode;
                _stop.TrySetResult();
            }
        }

        public void Signal(int signal)
        {
            lock (_lock)
            {
                foreach (Process? worker in _workers)
                {
                    if (worker is not null) _ = kill(worker.Id, signal);
                }
            }
        }

        private async Task RunSlotAsync(int slot)
        {
            int quickFailures = 0;
            while (true)
            {
                Process? worker = Start(slot);
                if (worker is null) return;
                var lifetime = Stopwatch.StartNew();
                int pid = worker.Id;
                await worker.WaitForExitAsync().ConfigureAwait(false);
                int status = worker.ExitCode;
                lock (_lock) _workers[slot] = null;
                worker.Dispose();
                if (_stop.Task.IsCompleted)
                {
                    if (status != 0) stderr.WriteLine($"parley: worker {pid} exited with status {status} while stopping");
                    return;
                }
                // A worker that fails as soon as it starts would fail again: after a few, stop everything.
                quickFailures = status != 0 && lifetime.Elapsed < QuickExit ? quickFailures + 1 : 0;
                if (quickFailures >= QuickFailuresBeforeGivingUp)
                {
                    stderr.WriteLine($"parley: worker exited with status {status} {quickFailures} times within {QuickExit.TotalSeconds:0} s of starting; stopping");
                    Stop(1);
                    return;
                }
                stderr.WriteLine($"parley: worker {pid} exited with status {status}; starting another");
                if (quickFailures > 0) await Task.WhenAny(_stop.Task, Task.Delay(1000 * quickFailures)).ConfigureAwait(false);
            }
        }

        /// <summary>
        /// Starts slot <paramref name="slot"/>'s worker: this program again, with the same arguments, inheriting
        /// only its slot's sockets (made inheritable just for this start, under the lock). Null once stopping.
        /// </summary>
        private Process? Start(int slot)
        {
            string program = Environment.ProcessPath ?? throw new InvalidOperationException("the path of this program is unknown");
            string[] commandLine = Environment.GetCommandLineArgs();
            var start = new ProcessStartInfo(program) { UseShellExecute = false };
            // Run with `dotnet Parley.Cli.dll`, the program is dotnet and the first argument the assembly.
            if (!string.Equals(Path.GetFullPath(commandLine[0]), program, StringComparison.Ordinal)) start.ArgumentList.Add(commandLine[0]);
            foreach (string argument in commandLine.Skip(1)) start.ArgumentList.Add(argument);
            Socket[] sockets = slots[slot];
            start.Environment[DescriptorsVariable] = string.Join(',', sockets.Select(socket => socket.Handle.ToString(CultureInfo.InvariantCulture)));
            start.Environment[SupervisorVariable] = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
            lock (_lock)
            {
                if (_stop.Task.IsCompleted) return null;
                foreach (Socket socket in sockets) SetInheritable(socket, true);
                try
                {
                    Process worker = Process.Start(start)!;
                    _workers[slot] = worker;
                    return worker;
                }
                finally
                {
                    foreach (Socket socket in sockets) SetInheritable(socket, false);
                }
            }
        }
    }

    private const int SOL_SOCKET = 1;
    private const int SO_REUSEADDR = 2;
    private const int SO_REUSEPORT = 15;
    private const int F_SETFD = 2;
    private const int FD_CLOEXEC = 1;

    private static void SetFlag(Socket socket, int option) => socket.SetRawSocketOption(SOL_SOCKET, option, BitConverter.GetBytes(1));

    private static void SetInheritable(Socket socket, bool inheritable) =>
        _ = fcntl((int)socket.Handle, F_SETFD, inheritable ? 0 : FD_CLOEXEC);

    // fcntl(2) is variadic; its third argument is an int here, passed in the same register as a fixed one.
    [DllImport("libc", SetLastError = true)]
    private static extern int fcntl(int fd, int command, int argument);

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);

    [DllImport("libc")]
    private static extern int getppid();
}
