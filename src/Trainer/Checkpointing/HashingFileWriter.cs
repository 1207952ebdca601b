using System.Security.Cryptography;

namespace Orchestrator.Trainer.Checkpointing;

/// <summary>
/// Writes one checkpoint file in large sequential chunks, hashing the bytes as they pass, and fsyncs it once
/// at the end: one pass over the data gives both the durable file and its manifest entry.
/// </summary>
internal sealed class HashingFileWriter : Stream
{
    private const int ChunkBytes = 1 << 20;
    private readonly FileStream _file;
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
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
        _hash.AppendData(buffer);
        _file.Write(buffer);
        _length += buffer.Length;
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
            _hash.Dispose();
        }
        base.Dispose(disposing);
    }

    private ManifestEntry Complete()
    {
        _file.Flush(flushToDisk: true);
        return new ManifestEntry(_length, Convert.ToHexStringLower(_hash.GetHashAndReset()));
    }
}
