using System.Buffers;
using Microsoft.Win32.SafeHandles;

namespace Orchestrator.Trainer.Checkpointing;

/// <summary>
/// Reads one checkpoint file once, hashing every byte as it passes: a tensor file is parsed straight into
/// its tensors' arrays, a blob read into one array, and a file only verified goes through one reused buffer.
/// <see cref="Finish"/> reads whatever the caller left and returns the file's hash. It never reads past the
/// length the manifest declares, so a file that grows while it is read (or a device that never ends) cannot
/// keep a load going.
/// </summary>
internal sealed class ChecksummedFileReader : Stream
{
    /// <summary>The most a read takes at once, so each slice is hashed while it is still in the CPU cache.</summary>
    internal const int ChunkBytes = 1 << 20;
    private readonly FileStream _file;
    private readonly FileChecksum _checksum;
    private readonly long _length;
    private long _position;

    /// <summary>Reads the first <paramref name="length"/> bytes of an opened file (see <see cref="CheckpointFileGuard"/>); takes the handle.</summary>
    public ChecksummedFileReader(SafeFileHandle file, long length, FileChecksum checksum)
    {
        // A small buffer serves the parser's field-by-field reads; reads of whole arrays bypass it.
        _file = new FileStream(file, FileAccess.Read, 1 << 16);
        _length = length;
        _checksum = checksum;
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => _length;
    public override long Position { get => _position; set => throw new NotSupportedException(); }

    /// <summary>The hash's name, for messages: "XXH128" or "SHA-256".</summary>
    public string ChecksumName => _checksum.Name;

    /// <summary>The whole file in one new array (a file shorter than the manifest says fails its hash).</summary>
    public byte[] ReadToArray(long length)
    {
        var bytes = GC.AllocateUninitializedArray<byte>(checked((int)length));
        ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false);
        return bytes;
    }

    /// <summary>Reads the rest of the file (through one pooled buffer) and returns the hash of all of it.</summary>
    public string Finish()
    {
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        try
        {
            while (Read(buffer.AsSpan(0, ChunkBytes)) > 0)
            {
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        return _checksum.Finish();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    // At most 1 MiB a call, so each slice is hashed right after it lands, while it is still in the CPU cache.
    public override int Read(Span<byte> buffer)
    {
        var read = _file.Read(buffer[..(int)Math.Min(Math.Min(buffer.Length, ChunkBytes), _length - _position)]);
        _checksum.Append(buffer[..read]);
        _position += read;
        return read;
    }

    public override int ReadByte()
    {
        Span<byte> one = stackalloc byte[1];
        return Read(one) == 1 ? one[0] : -1;
    }

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _file.Dispose();
            _checksum.Dispose();
        }
        base.Dispose(disposing);
    }
}
