using Orchestrator.Actors.Gradients;
using Orchestrator.Actors.Protocol;

namespace Orchestrator.Actors.Tests.Gradients;

public sealed class GradientReductionTests
{
    private const int Total = (2 * Chunking.ChunkLength) + 101; // three chunks, the last one short

    [Fact]
    public void Each_chunk_is_averaged_once_every_rank_sent_it_into_one_array_kept_across_steps()
    {
        var reduction = new GradientReduction(2, generation: 4);
        var first = Step(reduction, step: 1, rank0: 1f, rank1: 3f);
        reduction.StartStep();
        var second = Step(reduction, step: 2, rank0: 10f, rank1: 20f);

        Assert.All(second, chunk => Assert.All(chunk.Values, v => Assert.Equal(15f, v)));
        Assert.Equal([0, 1, 2], second.Select(c => c.Index));
        Assert.Equal(Total, second.Sum(c => c.Values.Count));
        // Views of one array at each chunk's place, the same array step after step: a rank applies it
        // without copying, and no step allocates one.
        var array = second[0].Values.Array!;
        Assert.Equal(Total, array.Length);
        Assert.All(second.Concat(first), c => Assert.Same(array, c.Values.Array));
        Assert.All(second, c => Assert.Equal(Chunking.OffsetOf(c.Index, Total), c.Values.Offset));
    }

    [Fact]
    public void A_step_allocates_no_gradient_sized_memory()
    {
        var reduction = new GradientReduction(2, generation: 1);
        var rank0 = new float[Total];
        var rank1 = new float[Total];
        Step(reduction, 1, rank0, rank1);
        reduction.StartStep();

        var before = GC.GetAllocatedBytesForCurrentThread();
        Step(reduction, 2, rank0, rank1);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(allocated < 16 * 1024, $"{allocated} bytes allocated for a step of {Total * sizeof(float)} bytes of gradients");
    }

    [Fact]
    public void A_chunk_sent_twice_by_one_rank_does_not_stand_in_for_another_rank()
    {
        var reduction = new GradientReduction(2, generation: 1);
        var values = new float[10];

        Assert.Null(reduction.Add(Chunk(0, 1, values)));
        Assert.Null(reduction.Add(Chunk(0, 1, values)));
        Assert.NotNull(reduction.Add(Chunk(1, 1, values)));
    }

    private static List<AveragedChunk> Step(GradientReduction reduction, long step, float rank0, float rank1) =>
        Step(reduction, step, Enumerable.Repeat(rank0, Total).ToArray(), Enumerable.Repeat(rank1, Total).ToArray());

    private static List<AveragedChunk> Step(GradientReduction reduction, long step, float[] rank0, float[] rank1)
    {
        var averaged = new List<AveragedChunk>();
        var count = Chunking.CountFor(Total);
        for (var index = 0; index < count; index++)
        {
            Assert.Null(reduction.Add(new GradientChunk(1, 0, step, index, count, Total, Chunking.Slice(rank0, index), 0.5, 32)));
            averaged.Add(reduction.Add(new GradientChunk(1, 1, step, index, count, Total, Chunking.Slice(rank1, index), 0.7, 32))!);
        }
        return averaged;
    }

    private static GradientChunk Chunk(int rank, long step, float[] values) => new(1, rank, step, 0, 1, values.Length, values, 0, 1);
}
