using System.IO.Hashing;
using Orchestrator.Trainer.Checkpointing;

namespace Orchestrator.Trainer.Tests.Checkpointing;

/// <summary>A checkpoint file as written: small fields and large arrays land in order, and the entry hashes exactly the file.</summary>
public sealed class HashingFileWriterTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Mixed_small_and_large_writes_land_in_order_and_the_entry_hashes_exactly_the_file()
    {
        var random = new Random(7);
        byte[] Bytes(int length)
        {
            var bytes = new byte[length];
            random.NextBytes(bytes);
            return bytes;
        }
        // Single bytes and fields of tens of kilobytes (the stream buffers them), and an array of several
        // 1 MiB chunks (written straight through) between small writes.
        var pieces = new[] { Bytes(1), Bytes(13), Bytes(40_000), Bytes(30_000), Bytes(70_000), Bytes(2), Bytes((3 << 20) + 5), Bytes(9) };
        var path = Path.Combine(_temp.Path, "file.bin");

        var entry = HashingFileWriter.Write(path, stream =>
        {
            stream.WriteByte(pieces[0][0]);
            foreach (var piece in pieces[1..])
            {
                stream.Write(piece);
            }
        });

        var expected = pieces.SelectMany(p => p).ToArray();
        var written = File.ReadAllBytes(path);
        Assert.Equal(expected.Length, written.Length);
        Assert.True(expected.AsSpan().SequenceEqual(written), "the file's bytes differ from what was written");
        Assert.Equal(expected.Length, entry.Bytes);
        Assert.Equal(Convert.ToHexStringLower(XxHash128.Hash(expected)), entry.Xxh128);
    }

    [Fact]
    public void A_file_larger_than_the_writeback_step_is_written_whole()
    {
        // 8 MiB is the step at which the writer asks the kernel to start writing back; 20 MiB and a tail
        // cross it twice, with a small write between two arrays.
        var random = new Random(11);
        var first = new byte[(12 << 20) + 3];
        var second = new byte[(8 << 20) + 77];
        random.NextBytes(first);
        random.NextBytes(second);
        var path = Path.Combine(_temp.Path, "large.bin");

        var entry = HashingFileWriter.Write(path, stream =>
        {
            stream.Write(first);
            stream.WriteByte(42);
            stream.Write(second);
        });

        byte[] expected = [.. first, 42, .. second];
        Assert.True(expected.AsSpan().SequenceEqual(File.ReadAllBytes(path)), "the file's bytes differ from what was written");
        Assert.Equal(Convert.ToHexStringLower(XxHash128.Hash(expected)), entry.Xxh128);
    }
}
