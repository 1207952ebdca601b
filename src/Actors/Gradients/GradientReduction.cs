using Orchestrator.Actors.Protocol;
using Orchestrator.Trainer.Distributed;

namespace Orchestrator.Actors.Gradients;

/// <summary>
/// Collects one step's gradient chunks from every rank and averages each chunk as soon as all ranks have
/// sent it, so the broadcast of early chunks overlaps the arrival of later ones. One reduction serves every
/// step of a generation: the averages are written into one array kept from step to step, so a step allocates
/// nothing. A chunk's average is overwritten only once every rank has sent that chunk of the next step, which
/// each rank does only after applying this step's average, even when the next step starts before they have.
/// </summary>
internal sealed class GradientReduction(int ranks, int generation, GradientWireType wire = GradientWireType.Fp32)
{
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
        GradientAverager.AverageInto(destination, byRank);
        if (wire != GradientWireType.Fp32)
        {
            HalfWire.Round(wire, destination); // the precision the ring's averages travel in, here too
        }
        return new AveragedChunk(chunk.Generation, chunk.Step, chunk.Index, chunk.Count, chunk.TotalLength, destination, _samples.Sum());
    }
}
