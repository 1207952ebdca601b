namespace Orchestrator.Trainer.Data;

/// <summary>
/// Which sample each rank reads at a cursor, shared by the file-backed datasets: epoch <c>e</c> visits the
/// samples in the order of a keyed permutation of (shuffle seed, e); batch <c>p</c> is positions
/// [p·B, (p+1)·B) of that order, and rank <c>r</c> of <c>R</c> takes the r-th slice of B/R of it. So the
/// global batch is the same at every world size, and the last partial batch of an epoch is dropped.
/// </summary>
internal sealed class GlobalBatchOrder
{
    private readonly long _sampleCount;
    private readonly int _batchSize;
    private readonly int _rank;

    public GlobalBatchOrder(long sampleCount, int batchSize, int rank, int worldSize, string samplesOf)
    {
        if (worldSize <= 0 || rank < 0 || rank >= worldSize || batchSize % worldSize != 0)
        {
            // The same words as ShuffledTensorDataset: a cluster's world-size choice looks for them.
            throw new ArgumentException($"shard {rank} of {worldSize} does not divide the batch of {batchSize}");
        }
        if (batchSize <= 0 || batchSize > sampleCount)
        {
            throw new ArgumentOutOfRangeException(nameof(batchSize), $"batch size must be between 1 and {sampleCount}, the samples in {samplesOf}");
        }
        _sampleCount = sampleCount;
        _batchSize = batchSize;
        _rank = rank;
        ShardSize = batchSize / worldSize;
    }

    /// <summary>The samples this rank reads per batch.</summary>
    public int ShardSize { get; }

    public long BatchesPerEpoch => _sampleCount / _batchSize;

    /// <summary>
    /// The samples of this rank's slice of the batch at <paramref name="cursor"/>, in order. Computed afresh
    /// each call (six round keys), so nothing is cached that two readers could race on.
    /// </summary>
    public long[] SamplesOf(DataCursor cursor)
    {
        if (cursor.Position < 0 || cursor.Position >= BatchesPerEpoch)
        {
            throw new ArgumentOutOfRangeException(nameof(cursor), $"position {cursor.Position} is outside an epoch of {BatchesPerEpoch} batches");
        }
        var permutation = new KeyedPermutation(_sampleCount, KeyedPermutation.EpochKey(cursor.ShuffleSeed, cursor.Epoch));
        var first = (cursor.Position * _batchSize) + ((long)_rank * ShardSize);
        var samples = new long[ShardSize];
        for (var slot = 0; slot < samples.Length; slot++)
        {
            samples[slot] = permutation[first + slot];
        }
        return samples;
    }
}
