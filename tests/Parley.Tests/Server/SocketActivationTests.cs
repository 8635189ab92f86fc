using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Parley.Server;
using static Parley.Tests.Server.Descriptors;

namespace Parley.Tests.Server;

/// <summary>Tests that change process-wide state (environment variables, standard error) run alone.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessStateCollection
{
    public const string Name = "Process state (environment, standard error)";
}

/// <summary>
/// <see cref="SocketActivation"/> in this process: how it reads and removes LISTEN_PID, LISTEN_FDS and
/// LISTEN_FDNAMES, and which descriptors it adopts. The passed sockets are placed with dup2(2) at
/// descriptors <see cref="First"/> and up, a block above every descriptor the test host has open (not 3
/// and up, which are its own), and taken through the internal overload that starts there; the variables
/// are restored after each test.
/// </summary>
[Collection(ProcessStateCollection.Name)]
public sealed class SocketActivationTests : IDisposable
{
    // Chosen per test above every open descriptor (with room to spare), so that dup2 never replaces one of
    // the host's: a fixed number (900 once) was already taken in a host that other tests had left with
    // many sockets still closing.
    private readonly int First = OperatingSystem.IsLinux() ? FreeBlockAboveOpen() : 0;
    private static readonly string[] Variables = ["LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"];

    private readonly Dictionary<string, string?> _saved = Variables.ToDictionary(name => name, Environment.GetEnvironmentVariable);
    private readonly List<IDisposable> _owned = [];

    public SocketActivationTests()
    {
        // Below First too: a loop that went downwards must find nothing there.
        for (int fd = First - 2; fd < First + 4; fd++) Assert.False(IsOpen(fd), $"descriptor {fd} is already open in the test host");
    }

    public void Dispose()
    {
        if (OperatingSystem.IsLinux())
        {
            for (int fd = First - 2; fd < First + 4; fd++) close(fd);
        }
        foreach (IDisposable owned in _owned) owned.Dispose();
        foreach ((string name, string? value) in _saved) Environment.SetEnvironmentVariable(name, value);
    }

    private static string ThisProcess => Environment.ProcessId.ToString(CultureInfo.InvariantCulture);

    private static void SetVariables(string? pid, string? count, string? names = null)
    {
        Environment.SetEnvironmentVariable("LISTEN_PID", pid);
        Environment.SetEnvironmentVariable("LISTEN_FDS", count);
        Environment.SetEnvironmentVariable("LISTEN_FDNAMES", names);
    }

    private static void AssertVariablesRemoved()
    {
        foreach (string name in Variables) Assert.Null(Environment.GetEnvironmentVariable(name));
    }

    [Fact]
    public void Without_LISTEN_PID_nothing_is_taken_and_LISTEN_FDS_is_left()
    {
        SetVariables(null, "1", "web");
        Assert.Empty(SocketActivation.TakeListenSockets(First));
        Assert.Equal("1", Environment.GetEnvironmentVariable("LISTEN_FDS"));
        Assert.Equal("web", Environment.GetEnvironmentVariable("LISTEN_FDNAMES"));
    }

    [Fact]
    public void Without_LISTEN_FDS_nothing_is_taken_and_LISTEN_PID_is_left()
    {
        SetVariables(ThisProcess, null);
        Assert.Empty(SocketActivation.TakeListenSockets(First));
        Assert.Equal(ThisProcess, Environment.GetEnvironmentVariable("LISTEN_PID"));
    }

    [Theory]
    [InlineData("1")]
    [InlineData("other")]
    [InlineData("+self")]
    public void Variables_meant_for_another_process_are_left_for_it(string pid)
    {
        // As a child of a socket-activated service inherits them: LISTEN_PID names the parent.
        if (pid == "+self") pid = "+" + ThisProcess;
        if (pid == "other") pid = (Environment.ProcessId + 1).ToString(CultureInfo.InvariantCulture);
        Place(First, Listening(IPAddress.Loopback));
        SetVariables(pid, "1", "web");
        Assert.Empty(SocketActivation.TakeListenSockets(First));
        Assert.Equal(pid, Environment.GetEnvironmentVariable("LISTEN_PID"));
        Assert.Equal("1", Environment.GetEnvironmentVariable("LISTEN_FDS"));
        Assert.Equal("web", Environment.GetEnvironmentVariable("LISTEN_FDNAMES"));
        Assert.True(IsOpen(First));
    }

    [Fact]
    public void LISTEN_FDS_of_0_for_this_process_takes_nothing_and_removes_the_variables()
    {
        SetVariables(ThisProcess, "0", "");
        Assert.Empty(SocketActivation.TakeListenSockets(First));
        AssertVariablesRemoved();
    }

    [Theory]
    [InlineData("many")]
    [InlineData("-1")]
    [InlineData(" 1")]
    [InlineData("1025")]
    public void LISTEN_FDS_that_is_not_a_count_is_refused_and_the_variables_removed(string count)
    {
        SetVariables(ThisProcess, count, "web");
        InvalidOperationException error = Assert.Throws<InvalidOperationException>(() => SocketActivation.TakeListenSockets(First));
        Assert.Equal($"LISTEN_FDS must be a number of descriptors, not '{count}'", error.Message);
        AssertVariablesRemoved();
    }

    [Fact]
    public void LISTEN_FDS_of_1024_is_a_count()
    {
        // Nothing at First: the count is accepted and the first descriptor is refused.
        SetVariables(ThisProcess, "1024");
        InvalidOperationException error = Assert.Throws<InvalidOperationException>(() => SocketActivation.TakeListenSockets(First));
        Assert.StartsWith($"descriptor {First} passed by socket activation is not a socket: ", error.Message);
        AssertVariablesRemoved();
    }

    [Fact]
    public void The_passed_sockets_are_taken_in_order_made_close_on_exec_and_the_variables_removed()
    {
        Socket v4 = Listening(IPAddress.Loopback);
        Socket v6 = Listening(IPAddress.IPv6Loopback);
        Place(First, v4);
        Place(First + 1, v6);
        Assert.False(IsCloseOnExec(First));
        SetVariables(ThisProcess, "2", "web:admin");

        IReadOnlyList<Socket> taken = SocketActivation.TakeListenSockets(First);

        AssertVariablesRemoved();
        Assert.Equal(2, taken.Count);
        Assert.Equal([First, First + 1], taken.Select(socket => (int)socket.Handle));
        Assert.Equal(v4.LocalEndPoint, taken[0].LocalEndPoint);
        Assert.Equal(v6.LocalEndPoint, taken[1].LocalEndPoint);
        Assert.True(IsCloseOnExec(First));
        Assert.True(IsCloseOnExec(First + 1));
        Assert.False(IsOpen(First + 2));
        // The sockets own their descriptors.
        foreach (Socket socket in taken) socket.Dispose();
        Assert.False(IsOpen(First));
        Assert.False(IsOpen(First + 1));
    }

    [Fact]
    public void A_descriptor_that_is_refused_closes_the_sockets_taken_before_it()
    {
        Place(First, Listening(IPAddress.Loopback));
        PlaceNotASocket(First + 1);
        SetVariables(ThisProcess, "2");

        InvalidOperationException error = Assert.Throws<InvalidOperationException>(() => SocketActivation.TakeListenSockets(First));

        Assert.Equal($"descriptor {First + 1} passed by socket activation is not a listening TCP socket (ListenStream= with an IP address in the .socket unit)", error.Message);
        Assert.False(IsOpen(First));
        Assert.False(IsOpen(First + 1));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Adopt_takes_a_listening_TCP_socket(bool v6)
    {
        Socket listening = Listening(v6 ? IPAddress.IPv6Loopback : IPAddress.Loopback);
        Place(First, listening);
        using (Socket adopted = SocketActivation.Adopt(First))
        {
            Assert.Equal(First, (int)adopted.Handle);
            Assert.Equal(listening.LocalEndPoint, adopted.LocalEndPoint);
            Assert.Equal(SocketType.Stream, adopted.SocketType);
        }
        Assert.False(IsOpen(First));
    }

    public static TheoryData<string> WrongSockets => ["bound TCP", "connected TCP", "UDP", "Unix listening"];

    [Theory]
    [MemberData(nameof(WrongSockets))]
    public void Adopt_refuses_and_closes_a_socket_that_is_not_a_listening_TCP_socket(string kind)
    {
        Place(First, kind switch
        {
            "bound TCP" => Bound(),
            "connected TCP" => Connected(),
            "UDP" => Udp(),
            _ => UnixListening(),
        });
        InvalidOperationException error = Assert.Throws<InvalidOperationException>(() => SocketActivation.Adopt(First));
        Assert.Equal($"descriptor {First} passed by socket activation is not a listening TCP socket (ListenStream= with an IP address in the .socket unit)", error.Message);
        Assert.False(IsOpen(First));
    }

    [Fact]
    public void Adopt_refuses_and_closes_a_descriptor_that_is_not_a_socket()
    {
        PlaceNotASocket(First);
        InvalidOperationException error = Assert.Throws<InvalidOperationException>(() => SocketActivation.Adopt(First));
        Assert.Equal($"descriptor {First} passed by socket activation is not a listening TCP socket (ListenStream= with an IP address in the .socket unit)", error.Message);
        Assert.False(IsOpen(First));
    }

    [Fact]
    public void Adopt_refuses_a_descriptor_that_is_not_open_and_lets_go_of_the_number_at_once()
    {
        InvalidOperationException error = Assert.Throws<InvalidOperationException>(() => SocketActivation.Adopt(First));
        Assert.StartsWith($"descriptor {First} passed by socket activation is not a socket: ", error.Message);
        Assert.IsType<SocketException>(error.InnerException);
        // The number is used again; a handle left to the finalizer would close what is there now.
        Place(First, Listening(IPAddress.Loopback));
        GC.Collect();
        GC.WaitForPendingFinalizers();
        Assert.True(IsOpen(First));
    }

    private T Own<T>(T owned) where T : IDisposable
    {
        _owned.Add(owned);
        return owned;
    }

    private Socket Listening(IPAddress address)
    {
        Socket socket = Own(new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp));
        socket.Bind(new IPEndPoint(address, 0));
        socket.Listen(4);
        return socket;
    }

    private Socket Bound()
    {
        Socket socket = Own(new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return socket;
    }

    private Socket Connected()
    {
        Socket listening = Listening(IPAddress.Loopback);
        Socket socket = Own(new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));
        socket.Connect(listening.LocalEndPoint!);
        return socket;
    }

    private Socket Udp()
    {
        Socket socket = Own(new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp));
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return socket;
    }

    private Socket UnixListening()
    {
        string path = Path.Combine(Path.GetTempPath(), $"parley-activation-{Guid.NewGuid():N}.sock");
        Socket socket = Own(new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified));
        socket.Bind(new UnixDomainSocketEndPoint(path));
        socket.Listen(4);
        File.Delete(path);
        return socket;
    }

    /// <summary>A copy of the socket's descriptor at <paramref name="fd"/>, not close-on-exec, as systemd passes it.</summary>
    private static void Place(int fd, Socket socket) => Assert.Equal(fd, dup2((int)socket.Handle, fd));

    private void PlaceNotASocket(int fd)
    {
        FileStream file = Own(new FileStream("/dev/null", FileMode.Open, FileAccess.Read));
        Assert.Equal(fd, dup2((int)file.SafeFileHandle.DangerousGetHandle(), fd));
    }

    private static bool IsOpen(int fd) => fcntl(fd, F_GETFD, 0) != -1;

    private static bool IsCloseOnExec(int fd) => (fcntl(fd, F_GETFD, 0) & FD_CLOEXEC) != 0;
}
