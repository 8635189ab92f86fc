using System.Runtime.CompilerServices;
using System.Net;
using System.Net.Sockets;
using Microsoft.Win32.SafeHandles;

namespace Parley.Server.Transport;

/// <summary>The portable transport: <see cref="Socket"/>'s own asynchronous operations.</summary>
internal sealed class SocketTransport(Socket socket) : ConnectionTransport
{
    public override IPEndPoint? RemoteEndPoint { get; } = socket.RemoteEndPoint as IPEndPoint;

    public override IPEndPoint? LocalEndPoint { get; } = socket.LocalEndPoint as IPEndPoint;

    public override ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);

    public override ValueTask WaitForDataAsync()
    {
        // A zero-byte receive completes when data arrives, and holds no buffer while it waits.
        ValueTask<int> wait = socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None);
        if (wait.IsCompletedSuccessfully)
        {
            wait.GetAwaiter().GetResult();
            return default;
        }
        return AwaitAsync(wait);
    }

    public override ValueTask SendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        ValueTask<int> send = socket.SendAsync(data, SocketFlags.None, cancellationToken);
        if (send.IsCompletedSuccessfully)
        {
            send.GetAwaiter().GetResult();
            return default;
        }
        return AwaitAsync(send);
    }

    // Pooled: these waits happen on every request, and their state machines must not be allocations.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private static async ValueTask AwaitAsync(ValueTask<int> operation) => await operation.ConfigureAwait(false);

    public override async ValueTask SendFileAsync(SafeFileHandle file, long offset, int length, CancellationToken cancellationToken)
    {
        // Not disposed: disposing would close the caller's handle, which the caller owns.
        var stream = new FileStream(file, FileAccess.Read, bufferSize: 0, isAsync: file.IsAsync);
        using var args = new FileSendArgs();
        args.SendPacketsElements = [new SendPacketsElement(stream, offset, length)];
        using (cancellationToken.UnsafeRegister(static state => ((Socket)state!).Dispose(), socket))
        {
            await args.SendAsync(socket).ConfigureAwait(false);
        }
        // SendPacketsAsync (sendfile(2) on Linux) stops early at the end of the file: the file shrank under us.
        if (args.BytesTransferred != length) throw new IOException("the file ended before the region that was announced");
        GC.KeepAlive(stream);
    }

    public override void SendBlocking(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty) data = data[socket.Send(data, SocketFlags.None)..];
    }

    public override void TrySendNow(ReadOnlySpan<byte> data)
    {
        try
        {
            socket.Send(data, SocketFlags.None);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
        }
    }

    public override void ShutdownSend() => socket.Shutdown(SocketShutdown.Send);

    public override void Abort()
    {
        try
        {
            socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
        }
        socket.Dispose();
    }

    public override void Dispose() => socket.Dispose();

    /// <summary>A SendPacketsAsync operation exposed as a task.</summary>
    private sealed class FileSendArgs : SocketAsyncEventArgs
    {
        private TaskCompletionSource? _completion;

        public Task SendAsync(Socket socket)
        {
            _completion = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            if (!socket.SendPacketsAsync(this)) Complete();
            return _completion.Task;
        }

        protected override void OnCompleted(SocketAsyncEventArgs e) => Complete();

        private void Complete()
        {
            if (SocketError == SocketError.Success) _completion!.TrySetResult();
            else _completion!.TrySetException(new SocketException((int)SocketError));
        }
    }
}
