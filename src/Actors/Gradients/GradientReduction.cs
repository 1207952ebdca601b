using Orchestrator.Actors.Protocol;
using Orchestrator.Trainer.Distributed;

namespace Orchestrator.Actors.Gradients;

/// <summary>
/// Collects one step's gradient chunks from every rank and averages each chunk as soon as all ranks have
/// sent it, so the broadcast of early chunks overlaps the arrival of later ones. One reduction serves every
/// step of a generation: the averages are written into one array kept from step to step, so a step allocates
/// nothing. A chunk's average is overwritten only once every rank has sent that chunk of the next step, which
/// each rank does only after applying this step's average, even when the next step starts before they have.
/// Every element is summed in the order the ring sums it (<see cref="RingLayout"/>), so the bytes of a step
/// depend only on the world size: ranks in one process, through the hub or around the ring, train alike.
/// </summary>
internal sealed class GradientReduction(int ranks, int generation, GradientWireType wire = GradientWireType.Fp32, int ringBucketLength = RingLayout.DefaultBucketLength)
{
    private readonly ArraySegment<float>[] _inRingOrder = new ArraySegment<float>[ranks];
    private readonly Dictionary<int, ArraySegment<float>[]> _chunks = [];
    private readonly Dictionary<int, int> _arrived = [];
    private readonly double[] _losses = new double[ranks];
    private readonly long[] _samples = new long[ranks];
    private float[] _averaged = [];

    public int Ranks => ranks;

    public int Generation => generation;

    public double MeanLoss => _losses.Average();

    public long GlobalSamples => _samples.Sum();

    /// <summary>Forgets the chunks of an unfinished step (the averaged array is kept).</summary>
    public void StartStep()
    {
        _chunks.Clear();
        _arrived.Clear();
        Array.Clear(_losses);
        Array.Clear(_samples);
    }

    /// <summary>Adds a chunk; returns the averaged chunk when it was the last one missing for that index.</summary>
    public AveragedChunk? Add(GradientChunk chunk)
    {
        _losses[chunk.Rank] = chunk.Loss;
        _samples[chunk.Rank] = chunk.Samples;
        if (!_chunks.TryGetValue(chunk.Index, out var byRank))
        {
            _chunks[chunk.Index] = byRank = new ArraySegment<float>[ranks];
        }
        if (byRank[chunk.Rank].Array is null)
        {
            _arrived[chunk.Index] = _arrived.GetValueOrDefault(chunk.Index) + 1;
        }
        byRank[chunk.Rank] = chunk.Values;
        if (_arrived[chunk.Index] < ranks)
        {
            return null;
        }
        _chunks.Remove(chunk.Index);
        _arrived.Remove(chunk.Index);
        if (_averaged.Length != chunk.TotalLength)
        {
            _averaged = new float[chunk.TotalLength];
        }
        if (!Chunking.Fits(chunk.Index, chunk.Count, chunk.TotalLength, chunk.Values.Count))
        {
            throw new ArgumentException($"rank {chunk.Rank} sent chunk {chunk.Index} of {chunk.Count} with {chunk.Values.Count} floats, which does not fit {chunk.TotalLength}");
        }
        var destination = new ArraySegment<float>(_averaged, Chunking.OffsetOf(chunk.Index, chunk.TotalLength), chunk.Values.Count);
        AverageInRingOrder(destination, byRank);
        if (wire != GradientWireType.Fp32)
        {
            HalfWire.Round(wire, destination); // the precision the ring's averages travel in, here too
        }
        return new AveragedChunk(chunk.Generation, chunk.Step, chunk.Index, chunk.Count, chunk.TotalLength, destination, _samples.Sum());
    }

    /// <summary>
    /// Averages each part of <paramref name="destination"/> that lies in ring segment s as the ring does:
    /// ((g_s + g_s+1) + …) + g_s−1, then divided by the world size. Two gradients add the same either way round.
    /// </summary>
    private void AverageInRingOrder(ArraySegment<float> destination, ArraySegment<float>[] byRank)
    {
        if (ranks <= 2)
        {
            GradientAverager.AverageInto(destination, byRank);
            return;
        }
        var layout = new RingLayout(_averaged.Length, ranks, ringBucketLength);
        var (start, end) = (destination.Offset, destination.Offset + destination.Count);
        for (var bucket = start / ringBucketLength; bucket < layout.Buckets && bucket * ringBucketLength < end; bucket++)
        {
            for (var segment = 0; segment < ranks; segment++)
            {
                var (offset, count) = layout.Segment(bucket, segment);
                var (from, to) = (Math.Max(offset, start), Math.Min(offset + count, end));
                if (from >= to)
                {
                    continue;
                }
                RingLayout.AverageInRingOrder(destination.AsSpan(from - start, to - from), segment, byRank, from - start, to - from, _inRingOrder);
            }
        }
    }
}
