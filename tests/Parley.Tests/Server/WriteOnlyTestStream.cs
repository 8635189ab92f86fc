namespace Parley.Tests.Server;

/// <summary>
/// The members every write-only stream a test hands to the server has in common: it cannot read or seek.
/// Subclasses say what a write (and a flush) does.
/// </summary>
internal abstract class WriteOnlyTestStream : Stream
{
    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
