using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Parley.Tests.Client;

/// <summary>
/// A loopback listener whose connections the test drives by hand, one step at a time: read a request head,
/// write exact bytes, stop reading, or reset the connection (RST), which <see cref="ScriptedServer"/> cannot.
/// </summary>
public sealed class LoopbackPeer : IDisposable
{
    private static readonly TimeSpan HangBound = TimeSpan.FromSeconds(30);
    private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);

    public LoopbackPeer()
    {
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndPoint!).Port;
    public string Url => $"http://127.0.0.1:{Port}/";
    public string Authority => $"127.0.0.1:{Port}";

    public async Task<PeerConnection> AcceptAsync()
    {
        using var bound = new CancellationTokenSource(HangBound);
        return new PeerConnection(await _listener.AcceptAsync(bound.Token));
    }

    public void Dispose() => _listener.Dispose();

    /// <summary>One accepted connection.</summary>
    public sealed class PeerConnection(Socket socket) : IDisposable
    {
        private readonly List<byte> _pending = [];

        /// <summary>Reads up to the end of the next request head (the bytes after it stay unread).</summary>
        public async Task<string> ReadHeadAsync()
        {
            using var bound = new CancellationTokenSource(HangBound);
            byte[] chunk = new byte[4096];
            while (true)
            {
                int end = IndexOfHeadEnd();
                if (end >= 0)
                {
                    string head = Encoding.Latin1.GetString(_pending.GetRange(0, end).ToArray());
                    _pending.RemoveRange(0, end);
                    return head;
                }
                int read = await socket.ReceiveAsync(chunk, SocketFlags.None, bound.Token);
                if (read == 0) throw new IOException("the client closed before a whole request head");
                _pending.AddRange(chunk.AsSpan(0, read));
            }
        }

        private int IndexOfHeadEnd()
        {
            for (int i = 0; i + 4 <= _pending.Count; i++)
            {
                if (_pending[i] == '\r' && _pending[i + 1] == '\n' && _pending[i + 2] == '\r' && _pending[i + 3] == '\n') return i + 4;
            }
            return -1;
        }

        public Task SendAsync(string text) => SendAsync(Encoding.Latin1.GetBytes(text));

        public async Task SendAsync(byte[] bytes)
        {
            using var bound = new CancellationTokenSource(HangBound);
            await socket.SendAsync(bytes, SocketFlags.None, bound.Token);
        }

        /// <summary>Waits until the client closes its side (end of stream or reset), discarding what it sends.</summary>
        public async Task WaitForCloseAsync()
        {
            using var bound = new CancellationTokenSource(HangBound);
            byte[] chunk = new byte[4096];
            try
            {
                while (await socket.ReceiveAsync(chunk, SocketFlags.None, bound.Token) > 0)
                {
                }
            }
            catch (SocketException)
            {
            }
        }

        /// <summary>Aborts the connection with a TCP reset: the client's next receive fails with ECONNRESET.</summary>
        public void Reset()
        {
            socket.LingerState = new LingerOption(true, 0);
            socket.Close();
        }

        public void Dispose() => socket.Dispose();
    }
}
