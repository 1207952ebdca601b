using Orchestrator.Actors.Gradients;

namespace Orchestrator.Actors.Tests.Gradients;

public sealed class ChunkingTests
{
    public static TheoryData<int> Totals => [0, 1, 5, 16_384, 16_385, 100_000, Chunking.ChunkLength, Chunking.ChunkLength + 1, 271_873, 2 * Chunking.ChunkLength, (2 * Chunking.ChunkLength) + 1, 26_214_400, 31_250_001];

    [Theory]
    [MemberData(nameof(Totals))]
    public void Chunks_cover_every_float_once_in_order_and_no_chunk_is_over_a_mebibyte(int total)
    {
        var count = Chunking.CountFor(total);
        var values = new float[total];

        var chunks = Enumerable.Range(0, count).Select(index => Chunking.Slice(values, index)).ToList();

        var next = 0;
        foreach (var (chunk, index) in chunks.Select((c, i) => (c, i)))
        {
            Assert.Equal(next, chunk.Offset);
            Assert.Equal(Chunking.OffsetOf(index, total), chunk.Offset);
            Assert.InRange(chunk.Count, total == 0 ? 0 : 1, Chunking.ChunkLength);
            Assert.True(Chunking.Fits(index, count, total, chunk.Count));
            next += chunk.Count;
        }
        Assert.Equal(total, next);
        // As equal as the division allows: only the last may be shorter.
        Assert.All(chunks.SkipLast(1), c => Assert.Equal(chunks[0].Count, c.Count));
    }

    [Fact]
    public void A_one_megabyte_model_is_cut_in_two_halves_and_a_large_one_in_whole_mebibytes()
    {
        Assert.Equal(1, Chunking.CountFor(16_384)); // latency-bound: one frame
        Assert.Equal([131_072, 131_072], Enumerable.Range(0, 2).Select(i => Chunking.LengthOf(i, Chunking.ChunkLength)));
        Assert.Equal([135_937, 135_936], Enumerable.Range(0, 2).Select(i => Chunking.LengthOf(i, 271_873))); // the benchmark's 1 MB mlp
        Assert.Equal(100, Chunking.CountFor(26_214_400));
        Assert.All(Enumerable.Range(0, 100), i => Assert.Equal(Chunking.ChunkLength, Chunking.LengthOf(i, 26_214_400)));
    }

    [Fact]
    public void A_chunk_with_the_wrong_count_or_length_does_not_fit()
    {
        Assert.False(Chunking.Fits(0, 1, Chunking.ChunkLength, Chunking.ChunkLength));
        Assert.False(Chunking.Fits(1, 2, Chunking.ChunkLength, 131_071));
        Assert.False(Chunking.Fits(2, 2, Chunking.ChunkLength, 131_072));
        Assert.False(Chunking.Fits(0, 2, -1, 0));
    }
}
