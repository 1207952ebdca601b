using Orchestrator.Trainer.Distributed;

namespace Orchestrator.Trainer.Tests.Distributed;

public sealed class GradientAveragerTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 7)]
    [InlineData(3, 1000)]
    [InlineData(4, 262_147)]
    public void The_vectorised_average_is_bit_identical_to_adding_in_rank_order_then_dividing(int ranks, int length)
    {
        var random = new Random(length);
        var byRank = Enumerable.Range(0, ranks).Select(_ => Enumerable.Range(0, length).Select(_ => Awkward(random)).ToArray()).ToList();
        var expected = ElementByElement(byRank);

        var averaged = GradientAverager.Average(byRank);

        Assert.Equal(expected.Select(BitConverter.SingleToInt32Bits), averaged.Select(BitConverter.SingleToInt32Bits));
    }

    [Fact]
    public void Averaging_into_a_slice_writes_only_that_slice_and_allocates_nothing()
    {
        var a = Enumerable.Range(0, 1 << 18).Select(i => (float)i).ToArray();
        var b = Enumerable.Range(0, 1 << 18).Select(i => (float)-i / 2).ToArray();
        var destination = new float[(1 << 18) + 10];
        ArraySegment<float>[] byRank = [a, b];
        GradientAverager.AverageInto(destination.AsSpan(5, 1 << 18), byRank); // JIT before measuring

        // The thread's counter can jump by a few kilobytes when a collection started by another test lands in
        // the window (1 run in 5 here read 8112 bytes for one call): a call that allocated would make every
        // window of calls nonzero, so one window at zero out of a few shows that none does.
        var windows = Enumerable.Range(0, 5).Select(_ =>
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var call = 0; call < 20; call++)
            {
                GradientAverager.AverageInto(destination.AsSpan(5, 1 << 18), byRank);
            }
            return GC.GetAllocatedBytesForCurrentThread() - before;
        }).ToList();

        Assert.Contains(0L, windows);
        Assert.Equal([0f, 0f, 0f, 0f, 0f], destination[..5]);
        Assert.Equal([0f, 0f, 0f, 0f, 0f], destination[^5..]);
        Assert.Equal((1000f + -500f) / 2, destination[5 + 1000]);
    }

    [Theory]
    [InlineData(2, 1000)]
    [InlineData(3, 37)]
    public void Segments_that_start_inside_larger_arrays_are_averaged_from_their_own_offsets(int ranks, int length)
    {
        var random = new Random(ranks);
        var arrays = Enumerable.Range(0, ranks).Select(_ => Enumerable.Range(0, length + 20).Select(_ => Awkward(random)).ToArray()).ToArray();
        var byRank = arrays.Select((array, rank) => new ArraySegment<float>(array, 3 + rank, length)).ToArray();
        var destination = new float[length];

        GradientAverager.AverageInto(destination, byRank);

        var expected = ElementByElement(byRank.Select(segment => segment.ToArray()).ToList());
        Assert.Equal(expected.Select(BitConverter.SingleToInt32Bits), destination.Select(BitConverter.SingleToInt32Bits));
    }

    [Fact]
    public void Gradients_of_different_sizes_are_refused_naming_the_cause()
    {
        var error = Assert.Throws<ArgumentException>(() => GradientAverager.Average([new float[3], new float[4]]));

        Assert.Contains("different sizes", error.Message, StringComparison.Ordinal);
    }

    private static float[] ElementByElement(IReadOnlyList<float[]> byRank)
    {
        var expected = new float[byRank[0].Length];
        for (var i = 0; i < expected.Length; i++)
        {
            var sum = byRank[0][i];
            for (var rank = 1; rank < byRank.Count; rank++)
            {
                sum += byRank[rank][i];
            }
            expected[i] = byRank.Count > 1 ? sum / byRank.Count : sum;
        }
        return expected;
    }

    private static float Awkward(Random random) => random.Next(20) switch
    {
        0 => float.NaN,
        1 => -0.0f,
        2 => float.Epsilon,
        3 => float.MaxValue,
        4 => -float.MaxValue,
        _ => (float)((random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-30, 30))),
    };
}
