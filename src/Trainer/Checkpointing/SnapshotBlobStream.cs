using Orchestrator.Trainer.Tensors;

namespace Orchestrator.Trainer.Checkpointing;

/// <summary>
/// A write-only stream into an array from a snapshot's buffers, sized from the previous save of the same
/// component. It grows if that guess is short, and <see cref="ToArray"/> gives an array of exactly the
/// bytes written: the buffer itself whenever the guess was right, which is every save after the first.
/// </summary>
internal sealed class SnapshotBlobStream(SnapshotBuffers buffers, int expectedLength) : Stream
{
    private byte[] _buffer = buffers.Rent(expectedLength);
    private bool _tracked = true;
    private int _length;

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => _length;
    public override long Position { get => _length; set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (buffer.Length > _buffer.Length - _length)
        {
            Grow(checked(_length + buffer.Length));
        }
        buffer.CopyTo(_buffer.AsSpan(_length));
        _length += buffer.Length;
    }

    public override void WriteByte(byte value) => Write(new ReadOnlySpan<byte>(in value));

    /// <summary>Exactly the bytes written, in an array the snapshot's buffers track; the stream is done after this.</summary>
    public byte[] ToArray()
    {
        if (_length == _buffer.Length)
        {
            if (!_tracked)
            {
                buffers.Keep(_buffer);
            }
            return _buffer;
        }
        var exact = buffers.Rent(_length);
        _buffer.AsSpan(0, _length).CopyTo(exact);
        if (_tracked)
        {
            buffers.Forget(_buffer);
        }
        return exact;
    }

    /// <summary>How many bytes <paramref name="write"/> writes, counted without keeping them.</summary>
    public static int Measure(Action<BinaryWriter> write)
    {
        using var counter = new ByteCountingStream();
        using (var writer = new BinaryWriter(counter, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            write(writer);
        }
        return checked((int)counter.Length);
    }

    public override void Flush() { }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    private void Grow(int needed)
    {
        var bigger = GC.AllocateUninitializedArray<byte>((int)Math.Min(Array.MaxLength, Math.Max(needed, 2L * _buffer.Length)));
        _buffer.AsSpan(0, _length).CopyTo(bigger);
        if (_tracked)
        {
            buffers.Forget(_buffer);
            _tracked = false;
        }
        _buffer = bigger;
    }
}
