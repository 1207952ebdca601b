namespace Orchestrator.Actors.Gradients;

/// <summary>
/// Told by the supervisor to each of its ranks in its own process, before a generation's first step: average
/// this generation's gradients through <paramref name="Reduction"/>. Never crosses the network.
/// </summary>
internal sealed record UseSharedReduction(SharedAllReduce Reduction);

/// <summary>
/// The all-reduce of ranks that share one process, in its memory: each rank publishes its own gradient array,
/// averages its share of the ring's segments (segment r of every bucket, see <see cref="RingLayout"/>) straight
/// from every rank's array into one averaged array, and applies that array once all shares are done. No
/// gradient is copied to the supervisor, no message carries one, and the averaging runs on every rank's thread
/// at once instead of on the supervisor's. Each element is summed in the ring's order, so the bytes are the
/// ring's and the supervisor's reduction's (<see cref="GradientReduction"/>) at the same world size. One
/// instance serves every step of one generation; a new generation gets a new one.
/// </summary>
internal sealed class SharedAllReduce(int world, int generation, TimeSpan timeout, GradientWireType wire = GradientWireType.Fp32,
    int bucketLength = RingLayout.DefaultBucketLength)
{
    private readonly Barrier _barrier = new(world);
    private readonly CancellationTokenSource _abort = new();
    private readonly float[][] _published = new float[world][];
    // By the step's parity: a rank past a step may publish the next one's loss before a slower peer has read
    // this one's, but it cannot get two steps ahead (it waits for that peer's next gradients first).
    private readonly double[][] _losses = [new double[world], new double[world]];
    private readonly long[][] _samples = [new long[world], new long[world]];
    // The step each rank last published its gradients for: who is missing when a step waits too long.
    private readonly long[] _publishedStep = Enumerable.Repeat(-1L, world).ToArray();
    private readonly long[] _averagedStep = Enumerable.Repeat(-1L, world).ToArray();
    private float[] _averaged = [];
    private RingPeerException? _gaveUp;

    public int World => world;

    public int Generation => generation;

    /// <summary>The ranks that have published their gradients for <paramref name="step"/> (any thread).</summary>
    public IEnumerable<int> PublishedFor(long step) => Enumerable.Range(0, world).Where(r => Volatile.Read(ref _publishedStep[r]) == step);

    /// <summary>Rank <paramref name="rank"/>'s part in this generation's all-reduce.</summary>
    public IGradientCollective For(int rank) => new Member(this, rank);

    /// <summary>Ends every wait of this generation (any thread): a newer generation has begun.</summary>
    public void Abort() => _abort.Cancel();

    /// <summary>
    /// Averages <paramref name="values"/> with the other ranks' (rank thread). The result is one array shared by
    /// every rank, valid until this rank's next call: no rank can write it again before every rank has called
    /// again, which each does only after applying it. <paramref name="values"/> must not change until then.
    /// </summary>
    public RingReduced AllReduce(int rank, long step, float[] values, double loss, long samples)
    {
        _published[rank] = values;
        var (losses, counts) = (_losses[step & 1], _samples[step & 1]);
        (losses[rank], counts[rank]) = (loss, samples);
        Volatile.Write(ref _publishedStep[rank], step);
        Wait(step, "publish its gradients", _publishedStep);
        var averaged = AveragedFor(values.Length);
        if (values.Length != averaged.Length || _published.Any(p => p.Length != values.Length))
        {
            throw new ArgumentException($"ranks have gradients of different sizes at step {step}; their models differ");
        }
        AverageShare(rank, averaged);
        Volatile.Write(ref _averagedStep[rank], step);
        // Every share averaged: every rank may apply, and no rank reads another's gradients any more.
        Wait(step, "average its share", _averagedStep);
        return new RingReduced(averaged, losses.Sum() / world, counts.Sum());
    }

    /// <summary>
    /// The averaged array, made by the last rank past the first barrier of the first step: every rank reads
    /// the field only after that barrier, which orders the write before every read.
    /// </summary>
    private float[] AveragedFor(int length)
    {
        var averaged = Volatile.Read(ref _averaged);
        if (averaged.Length == length)
        {
            return averaged;
        }
        var made = new float[length];
        return Interlocked.CompareExchange(ref _averaged, made, averaged) == averaged ? made : Volatile.Read(ref _averaged);
    }

    /// <summary>Segment <paramref name="rank"/> of every bucket, each element summed in the ring's order.</summary>
    private void AverageShare(int rank, float[] averaged)
    {
        var layout = new RingLayout(averaged.Length, world, bucketLength);
        var published = _published.Select(values => new ArraySegment<float>(values)).ToArray();
        var scratch = new ArraySegment<float>[world];
        for (var bucket = 0; bucket < layout.Buckets; bucket++)
        {
            var (offset, count) = layout.Segment(bucket, rank);
            if (count == 0)
            {
                continue;
            }
            var destination = averaged.AsSpan(offset, count);
            RingLayout.AverageInRingOrder(destination, rank, published, offset, count, scratch);
            if (wire != GradientWireType.Fp32)
            {
                HalfWire.Round(wire, destination); // the precision the ring's averages travel in, here too
            }
        }
    }

    private void Wait(long step, string what, long[] reached)
    {
        bool passed;
        try
        {
            passed = _barrier.SignalAndWait(timeout, _abort.Token);
        }
        catch (OperationCanceledException)
        {
            // A peer that gave up first has named the rank they all wait for: every rank names the same one.
            throw Volatile.Read(ref _gaveUp) is { } named
                ? new RingPeerException(named.Peer, named.Message)
                : new OperationCanceledException($"step {step}'s gradient average was abandoned: a newer generation began");
        }
        if (!passed)
        {
            // Names the rank its peers wait for: one that has not reached this point of the step.
            var missing = Enumerable.Range(0, world).FirstOrDefault(r => Volatile.Read(ref reached[r]) != step);
            var failure = new RingPeerException(missing, $"rank {missing} did not {what} for step {step} within {timeout.TotalSeconds:0.#} s");
            Interlocked.CompareExchange(ref _gaveUp, failure, null);
            _abort.Cancel(); // the others give up at once: this generation's steps are over
            var named = Volatile.Read(ref _gaveUp)!;
            throw named == failure ? failure : new RingPeerException(named.Peer, named.Message);
        }
    }

    private sealed class Member(SharedAllReduce shared, int rank) : IGradientCollective
    {
        public RingReduced AllReduce(long step, float[] values, double loss, long samples) => shared.AllReduce(rank, step, values, loss, samples);
    }
}
