using System.Net;
using Microsoft.Win32.SafeHandles;
using Parley.Server.Transport;

namespace Parley.Tests.Server;

/// <summary>
/// A transport that forwards every call to a real one: a test derives from it to record or change the
/// calls it cares about, and the rest behave as the real transport does.
/// </summary>
internal class ForwardingTransport(ConnectionTransport inner) : ConnectionTransport
{
    protected ConnectionTransport Inner { get; } = inner;

    public override IPEndPoint? RemoteEndPoint => Inner.RemoteEndPoint;

    public override IPEndPoint? LocalEndPoint => Inner.LocalEndPoint;

    public override bool HasUnreadBytes => Inner.HasUnreadBytes;

    public override ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        Inner.ReceiveAsync(buffer, cancellationToken);

    public override int TryReceiveNow(Span<byte> buffer) => Inner.TryReceiveNow(buffer);

    public override ValueTask<int> WaitForDataAsync() => Inner.WaitForDataAsync();

    public override ValueTask<int> SendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) =>
        Inner.SendAsync(data, cancellationToken);

    public override ValueTask SendFileAsync(ReadOnlyMemory<byte> prefix, SafeFileHandle file, long offset, int length, CancellationToken cancellationToken) =>
        Inner.SendFileAsync(prefix, file, offset, length, cancellationToken);

    public override void SendBlocking(ReadOnlySpan<byte> data) => Inner.SendBlocking(data);

    public override void TrySendNow(ReadOnlySpan<byte> data) => Inner.TrySendNow(data);

    public override void WatchPeer(Action onClosed) => Inner.WatchPeer(onClosed);

    public override void StopPeerWatch() => Inner.StopPeerWatch();

    public override void ShutdownSend() => Inner.ShutdownSend();

    public override void Abort() => Inner.Abort();

    public override void Close() => Inner.Close();

    public override void Dispose() => Inner.Dispose();
}
