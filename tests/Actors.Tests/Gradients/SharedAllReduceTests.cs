using Orchestrator.Actors.Gradients;
using Orchestrator.Actors.Protocol;

namespace Orchestrator.Actors.Tests.Gradients;

/// <summary>
/// The all-reduce of ranks in one process: every rank gets exactly the bytes the ring and the supervisor's
/// reduction give at that world size and wire precision, step after step; a rank that never arrives is named
/// by its waiting peers within the timeout; a newer generation frees every waiting rank at once.
/// </summary>
public sealed class SharedAllReduceTests
{
    private const int Bucket = 1000;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    [Theory]
    [InlineData(2, GradientWireType.Fp32)]
    [InlineData(3, GradientWireType.Fp32)]
    [InlineData(4, GradientWireType.Fp32)]
    [InlineData(5, GradientWireType.Fp32)]
    [InlineData(3, GradientWireType.Bf16)]
    [InlineData(2, GradientWireType.Fp16)]
    [InlineData(4, GradientWireType.Fp16)]
    public async Task Every_rank_gets_exactly_the_bytes_of_the_supervisors_reduction_step_after_step(int world, GradientWireType wire)
    {
        // Two message chunks whose boundary cuts a ring segment, and a last bucket shorter than the others.
        const int length = (40 * Bucket) + 777;
        var shared = new SharedAllReduce(world, 4, Timeout, wire, Bucket);
        for (var step = 1; step <= 3; step++)
        {
            var gradients = RingMemberTests.Gradients(world, length).Select(g => g.Select(v => v * step).ToArray()).ToArray();
            var expected = Reduced(world, wire, gradients, step);

            var results = await Task.WhenAll(Enumerable.Range(0, world).Select(rank =>
                Task.Run(() => shared.For(rank).AllReduce(step, gradients[rank], rank + 0.5, 5))));

            Assert.All(results, r => Assert.Equal(expected, r.Averaged));
            Assert.All(results, r => Assert.Equal(world * 5L, r.GlobalSamples));
            Assert.All(results, r => Assert.Equal(Enumerable.Range(0, world).Sum(k => k + 0.5) / world, r.MeanLoss));
            // The peers' gradients are read, never written: each rank's own array is as it published it.
            Assert.Equal(RingMemberTests.Gradients(world, length)[0].Select(v => v * step), gradients[0]);
        }
    }

    [Fact]
    public async Task A_rank_that_never_publishes_is_named_by_every_waiting_peer_within_the_timeout()
    {
        var shared = new SharedAllReduce(3, 1, TimeSpan.FromSeconds(3));
        var gradients = RingMemberTests.Gradients(3, 100);

        var waiting = Enumerable.Range(0, 2).Select(rank => Task.Run(() => shared.For(rank).AllReduce(1, gradients[rank], 0, 1))).ToArray();

        foreach (var peer in waiting)
        {
            var failed = await Assert.ThrowsAsync<RingPeerException>(() => peer);
            Assert.Equal(2, failed.Peer);
            Assert.Contains("rank 2 did not publish its gradients for step 1", failed.Message);
        }
        Assert.Equal([0, 1], shared.PublishedFor(1));
    }

    [Fact]
    public async Task Aborting_a_generation_frees_its_waiting_ranks_at_once()
    {
        var shared = new SharedAllReduce(2, 1, TimeSpan.FromMinutes(10));
        var waiting = Task.Run(() => shared.For(0).AllReduce(1, new float[10], 0, 1));
        while (!shared.PublishedFor(1).Any())
        {
            await Task.Yield();
        }

        shared.Abort();

        var abandoned = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Contains("abandoned", abandoned.Message);
    }

    /// <summary>What the supervisor's reduction averages from <paramref name="gradients"/> at one step.</summary>
    private static float[] Reduced(int world, GradientWireType wire, float[][] gradients, int step)
    {
        var reduction = new GradientReduction(world, 4, wire, Bucket);
        var length = gradients[0].Length;
        var averaged = new float[length];
        var chunks = Chunking.CountFor(length);
        for (var index = 0; index < chunks; index++)
        {
            for (var rank = 0; rank < world; rank++)
            {
                if (reduction.Add(new GradientChunk(4, rank, step, index, chunks, length, Chunking.Slice(gradients[rank], index), rank + 0.5, 5)) is { } done)
                {
                    done.Values.AsSpan().CopyTo(averaged.AsSpan(done.Values.Offset));
                }
            }
        }
        return averaged;
    }
}
