using System.IO.Hashing;
using Orchestrator.Trainer.Checkpointing;
using Orchestrator.Trainer.Tests.Support;

namespace Orchestrator.Trainer.Tests.Checkpointing;

/// <summary>
/// The largest blob of a load, read by two threads: a head hashed as it lands and a tail hashed after. The
/// bytes and the hash must be those of one whole read, and a flip or a cut on either side must fail it.
/// </summary>
public sealed class SplitBlobReadTests : IDisposable
{
    private const int Length = (3 << 20) + 12_345;
    private readonly TempDirectory _temp = new();
    private readonly byte[] _bytes = new byte[Length];
    private readonly string _path;

    public SplitBlobReadTests()
    {
        new Random(7).NextBytes(_bytes);
        _path = Path.Combine(_temp.Path, "optimizer.bin");
        File.WriteAllBytes(_path, _bytes);
    }

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void The_head_is_one_threads_page_aligned_share_and_a_small_tail_or_one_thread_is_not_split()
    {
        var page = Environment.SystemPageSize;

        Assert.Equal(3_000_000 / 2 / page * page, SplitBlobRead.HeadLength(2_000_000, 3_000_000, workers: 2));
        Assert.Equal(6_000_000 / 4 / page * page, SplitBlobRead.HeadLength(5_000_000, 6_000_000, workers: 4));
        Assert.Null(SplitBlobRead.HeadLength(2_000_000, 3_000_000, workers: 1));
        Assert.Null(SplitBlobRead.HeadLength(1_600_000, 3_000_000, workers: 2)); // a tail of 100 KB
        Assert.Null(SplitBlobRead.HeadLength(1_000_000, 3_000_000, workers: 2)); // no more than its share
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Head_and_tail_in_either_order_give_the_files_bytes_and_its_whole_hash(bool tailFirst)
    {
        using var read = new SplitBlobRead(() => File.OpenHandle(_path), FileChecksum.Xxh128(), Length, headLength: 1 << 20);

        if (tailFirst)
        {
            read.ReadTail();
            read.ReadHead();
        }
        else
        {
            Parallel.Invoke(read.ReadHead, read.ReadTail);
        }
        var (checksum, bytes) = read.Finish();

        Assert.Equal(_bytes, bytes);
        Assert.Equal(Convert.ToHexStringLower(XxHash128.Hash(_bytes)), checksum);
    }

    [Theory]
    [InlineData(10)] // in the head
    [InlineData(Length - 1)] // the last byte, in the tail
    public void A_flipped_byte_on_either_side_changes_the_hash(int position)
    {
        var whole = Convert.ToHexStringLower(XxHash128.Hash(_bytes));
        _bytes[position] ^= 0x01;
        File.WriteAllBytes(_path, _bytes);
        using var read = new SplitBlobRead(() => File.OpenHandle(_path), FileChecksum.Xxh128(), Length, headLength: 1 << 20);

        Parallel.Invoke(read.ReadHead, read.ReadTail);

        Assert.NotEqual(whole, read.Finish().Checksum);
    }

    [Theory]
    [InlineData(Length - 100)] // a short tail
    [InlineData(1000)] // a short head and no tail at all
    public void A_file_cut_after_its_size_was_checked_cannot_match_its_hash(int kept)
    {
        var whole = Convert.ToHexStringLower(XxHash128.Hash(_bytes));
        using var read = new SplitBlobRead(() => File.OpenHandle(_path), FileChecksum.Xxh128(), Length, headLength: 1 << 20);
        File.WriteAllBytes(_path, _bytes[..kept]);

        Parallel.Invoke(read.ReadHead, read.ReadTail);

        Assert.NotEqual(whole, read.Finish().Checksum);
    }
}
