namespace Orchestrator.Trainer.Checkpointing;

/// <summary>
/// Writes one checkpoint file in large sequential chunks, hashing the bytes as they pass: one pass over the
/// data gives both the file and its manifest entry. The caller fsyncs it (with the checkpoint's other files
/// and their folder, see <see cref="DurableFiles.SyncAll"/>) before the folder is renamed. Large writes
/// (a tensor's or a blob's array) go to the file straight from the caller's array, 1 MiB at a time, each
/// slice hashed just before it is written while it is still in the CPU cache.
/// </summary>
internal sealed class HashingFileWriter : Stream
{
    private const int ChunkBytes = 1 << 20;
    private readonly FileStream _file;
    private readonly FileChecksum _checksum = FileChecksum.Xxh128();
    private long _length;

    private HashingFileWriter(FileStream file) => _file = file;

    public static ManifestEntry Write(string path, Action<Stream> content)
    {
        using var writer = new HashingFileWriter(new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, ChunkBytes));
        content(writer);
        return writer.Complete();
    }

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => _length;
    public override long Position { get => _length; set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        while (!buffer.IsEmpty)
        {
            var slice = buffer[..Math.Min(buffer.Length, ChunkBytes)];
            _checksum.Append(slice);
            _file.Write(slice);
            _length += slice.Length;
            buffer = buffer[slice.Length..];
        }
    }

    public override void Flush() => _file.Flush();
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _file.Dispose();
            _checksum.Dispose();
        }
        base.Dispose(disposing);
    }

    private ManifestEntry Complete()
    {
        _file.Flush();
        return new ManifestEntry(_length, Xxh128: _checksum.Finish());
    }
}
