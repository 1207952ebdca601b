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
        var bytes = RandomBytes(7);
        // Single bytes and fields of tens of kilobytes (the stream buffers them), and an array of several
        // 1 MiB chunks (written straight through) between small writes.
        var pieces = new[] { bytes(1), bytes(13), bytes(40_000), bytes(30_000), bytes(70_000), bytes(2), bytes((3 << 20) + 5), bytes(9) };
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
    public void Arrays_and_spans_larger_than_the_writeback_step_are_written_whole_and_hashed_in_order()
    {
        // 8 MiB is the step at which the writer asks the kernel to start writing back; the pieces cross it
        // three times. Large arrays and spans go to the file straight from the caller's memory, small writes
        // through the buffer: the file and its hash must follow the order of the writes across all three.
        var bytes = RandomBytes(11);
        var first = bytes((12 << 20) + 3);
        var second = bytes((8 << 20) + 77);
        var third = bytes((2 << 20) + 100);
        var small = bytes(70_000);
        var path = Path.Combine(_temp.Path, "large.bin");

        var entry = HashingFileWriter.Write(path, stream =>
        {
            stream.Write(first, 0, first.Length);
            stream.WriteByte(42);
            stream.Write(second);
            stream.Write(small, 0, 1000);
            stream.Write(third, 5, third.Length - 9);
            stream.Write(small, 1000, small.Length - 1000);
        });

        byte[] expected = [.. first, 42, .. second, .. small[..1000], .. third[5..^4], .. small[1000..]];
        Assert.True(expected.AsSpan().SequenceEqual(File.ReadAllBytes(path)), "the file's bytes differ from what was written");
        Assert.Equal(expected.Length, entry.Bytes);
        Assert.Equal(Convert.ToHexStringLower(XxHash128.Hash(expected)), entry.Xxh128);
    }

    private static Func<int, byte[]> RandomBytes(int seed)
    {
        var random = new Random(seed);
        return length =>
        {
            var bytes = new byte[length];
            random.NextBytes(bytes);
            return bytes;
        };
    }
}
