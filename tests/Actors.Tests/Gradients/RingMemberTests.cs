using Orchestrator.Actors.Gradients;
using Orchestrator.Actors.Protocol;
using Orchestrator.Trainer.Distributed;

namespace Orchestrator.Actors.Tests.Gradients;

/// <summary>
/// The ring all-reduce over real loopback links: every rank ends with the same bytes, summed in the order the
/// world size fixes; a stale generation's frame is refused; a neighbour that closes or goes silent fails the
/// step, named, without anyone waiting for ever.
/// </summary>
public sealed class RingMemberTests
{
    private const string Token = "ring-test-token";
    private const int Bucket = 1000;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Two_ranks_average_to_exactly_the_bytes_the_supervisors_reduction_gives()
    {
        var gradients = Gradients(2, 2503);
        using var ring = await Ring.JoinAsync(2, 7, Timeout);

        var results = await ring.AllReduceAsync(gradients);

        var hub = GradientAverager.Average(Gradients(2, 2503));
        Assert.All(results, r => Assert.Equal(hub, r.Averaged));
        Assert.All(results, r => Assert.Equal(2 * 5L, r.GlobalSamples));
        Assert.All(results, r => Assert.Equal((0.5 + 1.5) / 2, r.MeanLoss));
    }

    [Theory]
    [InlineData(3)]
    [InlineData(4)]
    public async Task Every_rank_ends_with_the_same_bytes_each_segment_summed_from_its_own_rank_on(int world)
    {
        var length = (2 * Bucket) + 777;
        using var ring = await Ring.JoinAsync(world, 3, Timeout);

        var results = await ring.AllReduceAsync(Gradients(world, length));

        var original = Gradients(world, length);
        var layout = new RingLayout(length, world, Bucket);
        var expected = new float[length];
        for (var bucket = 0; bucket < layout.Buckets; bucket++)
        {
            for (var segment = 0; segment < world; segment++)
            {
                var (offset, count) = layout.Segment(bucket, segment);
                for (var i = offset; i < offset + count; i++)
                {
                    var sum = original[segment][i];
                    for (var k = 1; k < world; k++)
                    {
                        sum += original[(segment + k) % world][i];
                    }
                    expected[i] = sum / world;
                }
            }
        }
        Assert.All(results, r => Assert.Equal(expected, r.Averaged));
    }

    [Theory]
    [InlineData(3)]
    [InlineData(4)]
    public async Task At_any_world_size_the_supervisors_reduction_gives_exactly_the_rings_bytes(int world)
    {
        // Two message chunks whose boundary cuts a ring segment: the reduction sums each part in its segment's order.
        const int length = (40 * Bucket) + 777;
        using var ring = await Ring.JoinAsync(world, 9, Timeout);
        var results = await ring.AllReduceAsync(Gradients(world, length));

        var gradients = Gradients(world, length);
        var reduction = new GradientReduction(world, 9, GradientWireType.Fp32, Bucket);
        var averaged = new float[length];
        var chunks = Chunking.CountFor(length);
        Assert.Equal(2, chunks);
        for (var index = 0; index < chunks; index++)
        {
            for (var rank = 0; rank < world; rank++)
            {
                if (reduction.Add(new GradientChunk(9, rank, 1, index, chunks, length, Chunking.Slice(gradients[rank], index), rank + 0.5, 5)) is { } done)
                {
                    done.Values.AsSpan().CopyTo(averaged.AsSpan(done.Values.Offset));
                }
            }
        }
        Assert.All(results, r => Assert.Equal(averaged, r.Averaged));
    }

    [Theory]
    [InlineData(GradientWireType.Bf16, 1e-2)]
    [InlineData(GradientWireType.Fp16, 2e-3)]
    public async Task Half_precision_on_the_wire_gives_every_rank_the_same_bytes_run_after_run(GradientWireType wire, double tolerance)
    {
        var length = Bucket + 333;
        float[][] Run()
        {
            using var ring = Ring.JoinAsync(3, 1, Timeout, wire).GetAwaiter().GetResult();
            return ring.AllReduceAsync(Gradients(3, length)).GetAwaiter().GetResult().Select(r => r.Averaged).ToArray();
        }

        var first = Run();
        var second = Run();

        Assert.All(first, r => Assert.Equal(first[0], r));
        Assert.Equal(first[0], second[0]);
        var exact = Gradients(3, length);
        for (var i = 0; i < length; i++)
        {
            var mean = (exact[0][i] + exact[1][i] + exact[2][i]) / 3.0;
            Assert.True(Math.Abs(first[0][i] - mean) <= tolerance * Math.Abs(mean) + 1e-6, $"element {i}: {first[0][i]} against {mean}");
        }
    }

    [Theory]
    [InlineData(GradientWireType.Bf16)]
    [InlineData(GradientWireType.Fp16)]
    public async Task Two_ranks_at_half_precision_get_the_bytes_the_supervisors_reduction_gives_at_that_precision(GradientWireType wire)
    {
        using var ring = await Ring.JoinAsync(2, 5, Timeout, wire);

        var results = await ring.AllReduceAsync(Gradients(2, 2503));

        var reduction = new GradientReduction(2, 5, wire);
        var gradients = Gradients(2, 2503);
        reduction.Add(new GradientChunk(5, 0, 1, 0, 1, 2503, gradients[0], 0.5, 5));
        var averaged = reduction.Add(new GradientChunk(5, 1, 1, 0, 1, 2503, gradients[1], 1.5, 5))!;
        Assert.All(results, r => Assert.Equal(averaged.Values.ToArray(), r.Averaged));
        Assert.NotEqual(GradientAverager.Average(Gradients(2, 2503)), results[0].Averaged); // rounded, not fp32
    }

    [Fact]
    public async Task A_rank_may_write_its_next_gradients_as_soon_as_its_all_reduce_returns()
    {
        // The segments a rank sends last are views of its array: a neighbour must get them as they were,
        // although the rank overwrites the array at once, as a rank starting its next step does.
        const int world = 3;
        const int length = 6 << 20;
        using var ring = await Ring.JoinAsync(world, 2, Timeout, bucket: RingLayout.DefaultBucketLength);
        var gradients = Gradients(world, length);

        var results = await Task.WhenAll(ring.Members.Select((member, rank) => Task.Run(() =>
        {
            var averaged = member.AllReduce(1, gradients[rank], 0, 1).Averaged.ToArray();
            Array.Fill(gradients[rank], float.NaN);
            return averaged;
        })));

        Assert.All(results, r => Assert.Equal(results[0], r));
        Assert.DoesNotContain(results[0], float.IsNaN);
    }

    [Fact]
    public async Task A_frame_of_an_earlier_generation_is_refused_not_summed()
    {
        using var ring = await Ring.JoinAsync(2, 9, Timeout);
        var poison = Enumerable.Repeat(1e30f, 500).ToArray();
        // Exactly the frame rank 1 sends first, but stamped with the generation before: only the stamp differs.
        Assert.True(ring.Members[1].SendRaw(RingFrames.Of(new RingHeader(8, 1, 0, 0, 1, 1.5, 5), poison)));

        var results = await ring.AllReduceAsync(Gradients(2, 2503));

        Assert.Equal(GradientAverager.Average(Gradients(2, 2503)), results[0].Averaged);
        Assert.Equal(1, ring.Members[0].StaleFramesRefused);
    }

    [Fact]
    public async Task A_rank_that_leaves_mid_collective_fails_both_its_neighbours_steps_at_once_naming_it()
    {
        using var ring = await Ring.JoinAsync(3, 2, TimeSpan.FromMinutes(5));
        var gradients = Gradients(3, 2503);
        var steps = new[] { 0, 1 }.Select(r => Task.Run(() => ring.Members[r].AllReduce(1, gradients[r], 0, 1))).ToArray();

        ring.Members[2].Dispose(); // rank 2 never sends: the others are inside the collective, waiting on it

        // Rank 0 receives from rank 2, rank 1 sends to it: both see its links close, long before the timeout.
        var failures = new[] { await Assert.ThrowsAsync<RingPeerException>(() => steps[0]), await Assert.ThrowsAsync<RingPeerException>(() => steps[1]) };
        Assert.All(failures, f => Assert.True(f.Peer == 2, f.Message));
    }

    [Fact]
    public async Task A_silent_neighbour_fails_the_step_within_the_timeout_naming_it()
    {
        using var ring = await Ring.JoinAsync(2, 2, TimeSpan.FromMilliseconds(300));

        var failed = await Assert.ThrowsAsync<RingPeerException>(() => Task.Run(() => ring.Members[0].AllReduce(1, new float[100], 0, 1)));

        Assert.Equal(1, failed.Peer);
        Assert.Contains("sent no gradients", failed.Message);
    }

    [Fact]
    public async Task A_rank_silent_from_the_start_of_a_step_is_named_first_by_the_rank_after_it_not_by_those_further_round()
    {
        using (await Ring.JoinAsync(4, 1, Timeout))
        {
            // A first join pays for compiling the links' code: on a loaded machine more than the short timeout below.
        }
        using var ring = await Ring.JoinAsync(4, 2, TimeSpan.FromSeconds(1));

        // Rank 2 never sends (hung before its step's first segment); ranks 0 and 1 hear from their previous
        // rank, which then waits as they do.
        var steps = new[] { 0, 1, 3 }.ToDictionary(r => r, r => OnOwnThread(() => ring.Members[r].AllReduce(1, new float[100], 0, 1)));
        var first = await Task.WhenAny(steps.Values);

        Assert.Same(steps[3], first);
        var named = await Assert.ThrowsAsync<RingPeerException>(() => steps[3]);
        Assert.Equal((2, "rank 2 sent no gradients on the ring within 1 s"), (named.Peer, named.Message));
        foreach (var (rank, previous) in new[] { (0, 3), (1, 0) })
        {
            var waiting = await Assert.ThrowsAsync<RingPeerException>(() => steps[rank]);
            Assert.Equal((previous, $"rank {previous} sent part of its gradients on the ring, then nothing within 2 s"), (waiting.Peer, waiting.Message));
        }
    }

    /// <summary>
    /// Blocking ring work on a thread of its own, as each rank has: pool threads, two on two cores, would
    /// start the later ranks only after a short timeout has run out for the first.
    /// </summary>
    private static Task<T> OnOwnThread<T>(Func<T> work) => Task.Factory.StartNew(work, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    /// <summary>Rank r's gradients: values of every sign and size, different per rank.</summary>
    internal static float[][] Gradients(int world, int length) => Enumerable.Range(0, world)
        .Select(r => Enumerable.Range(0, length).Select(i => (float)(Math.Sin((i * 0.37) + (r * 1.3)) * Math.Pow(10, (i + r) % 7 - 3))).ToArray())
        .ToArray();

    private sealed class Ring(RingListener[] listeners, RingMember[] members) : IDisposable
    {
        public RingMember[] Members { get; } = members;

        public static async Task<Ring> JoinAsync(int world, int generation, TimeSpan timeout, GradientWireType wire = GradientWireType.Fp32, int bucket = Bucket)
        {
            var listeners = Enumerable.Range(0, world).Select(_ => new RingListener("127.0.0.1", null)).ToArray();
            var members = await Task.WhenAll(Enumerable.Range(0, world).Select(rank => OnOwnThread(() => RingMember.Join(listeners[rank],
                new RingJoin(Token, generation, rank, world, listeners[(rank + 1) % world].Endpoint, timeout, wire, bucket), null, CancellationToken.None))));
            return new Ring(listeners, members);
        }

        /// <summary>Every rank's all-reduce of step 1; rank r's loss is r + 0.5 and its samples 5.</summary>
        public async Task<RingReduced[]> AllReduceAsync(float[][] gradients) =>
            await Task.WhenAll(Members.Select((m, r) => Task.Run(() => m.AllReduce(1, gradients[r], r + 0.5, 5))));

        public void Dispose()
        {
            foreach (var member in Members)
            {
                member.Dispose();
            }
            foreach (var listener in listeners)
            {
                listener.Dispose();
            }
        }
    }
}
