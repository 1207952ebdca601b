using Orchestrator.Actors.Rank;
using Orchestrator.Trainer.Distributed;

namespace Orchestrator.Actors.Job;

/// <summary>
/// Collects one step's gradient chunks from every rank and averages each chunk as soon as all ranks have
/// sent it, so the broadcast of early chunks overlaps the arrival of later ones.
/// </summary>
internal sealed class GradientReduction(int ranks)
{
    private readonly Dictionary<int, float[]?[]> _chunks = [];
    private readonly double[] _losses = new double[ranks];
    private readonly long[] _samples = new long[ranks];

    public double MeanLoss => _losses.Average();

    public long GlobalSamples => _samples.Sum();

    /// <summary>Adds a chunk; returns the averaged chunk when it was the last one missing for that index.</summary>
    public AveragedChunk? Add(GradientChunk chunk)
    {
        _losses[chunk.Rank] = chunk.Loss;
        _samples[chunk.Rank] = chunk.Samples;
        if (!_chunks.TryGetValue(chunk.Index, out var byRank))
        {
            _chunks[chunk.Index] = byRank = new float[ranks][];
        }
        byRank[chunk.Rank] = chunk.Values;
        if (byRank.Any(values => values is null))
        {
            return null;
        }
        _chunks.Remove(chunk.Index);
        var averaged = GradientAverager.Average(byRank!);
        return new AveragedChunk(chunk.Generation, chunk.Step, chunk.Index, chunk.Count, chunk.TotalLength, averaged, _samples.Sum());
    }
}
