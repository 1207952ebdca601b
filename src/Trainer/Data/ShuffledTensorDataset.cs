using static TorchSharp.torch;

namespace Orchestrator.Trainer.Data;

/// <summary>
/// In-memory samples served in batches, reshuffled each epoch by a permutation that depends only on
/// (shuffle seed, epoch). The last partial batch of an epoch is dropped so every step sees the same batch size.
/// Optionally a shard: rank <c>r</c> of <c>R</c> reads its own disjoint slice of each global batch.
/// </summary>
public sealed class ShuffledTensorDataset : IDataSource, IDisposable
{
    private readonly Tensor _inputs;
    private readonly Tensor _targets;
    private readonly int _batchSize;
    private readonly int _shardIndex;
    private readonly int _shardCount;
    private long _permutationEpoch = -1;
    private long _permutationSeed;
    private Tensor? _permutation;

    public ShuffledTensorDataset(Tensor inputs, Tensor targets, int batchSize, int shardIndex = 0, int shardCount = 1)
    {
        if (inputs.shape[0] != targets.shape[0])
        {
            throw new ArgumentException("inputs and targets must have the same number of samples");
        }
        if (batchSize <= 0 || batchSize > inputs.shape[0])
        {
            throw new ArgumentOutOfRangeException(nameof(batchSize), $"batch size must be between 1 and {inputs.shape[0]}");
        }
        if (shardCount <= 0 || shardIndex < 0 || shardIndex >= shardCount || batchSize % shardCount != 0)
        {
            throw new ArgumentException($"shard {shardIndex} of {shardCount} does not divide the batch of {batchSize}");
        }
        _inputs = inputs;
        _targets = targets;
        _batchSize = batchSize;
        _shardIndex = shardIndex;
        _shardCount = shardCount;
    }

    public long SampleCount => _inputs.shape[0];

    public long BatchesPerEpoch => SampleCount / _batchSize;

    public int? GlobalBatchSize => _batchSize;

    public Batch Read(DataCursor cursor)
    {
        if (cursor.Position < 0 || cursor.Position >= BatchesPerEpoch)
        {
            throw new ArgumentOutOfRangeException(nameof(cursor), $"position {cursor.Position} is outside an epoch of {BatchesPerEpoch} batches");
        }
        var permutation = PermutationFor(cursor);
        var shardSize = _batchSize / _shardCount;
        var start = (cursor.Position * _batchSize) + (_shardIndex * shardSize);
        using var indices = permutation.narrow(0, start, shardSize);
        return new Batch(_inputs.index_select(0, indices), _targets.index_select(0, indices));
    }

    public void Dispose()
    {
        _permutation?.Dispose();
        _inputs.Dispose();
        _targets.Dispose();
    }

    private Tensor PermutationFor(DataCursor cursor)
    {
        if (_permutation is null || _permutationEpoch != cursor.Epoch || _permutationSeed != cursor.ShuffleSeed)
        {
            _permutation?.Dispose();
            using var generator = new Generator(unchecked((ulong)(cursor.ShuffleSeed * 1_000_003 + cursor.Epoch)));
            // Cached across steps, so it must not belong to the dispose scope of the step that created it.
            _permutation = randperm(SampleCount, generator: generator, dtype: ScalarType.Int64).DetachFromDisposeScope();
            _permutationEpoch = cursor.Epoch;
            _permutationSeed = cursor.ShuffleSeed;
        }
        return _permutation;
    }
}
