namespace Orchestrator.Trainer.Data;

/// <summary>
/// Where a data source stands: the epoch, the next batch within it, and the seed of the per-epoch shuffle.
/// Saved in every checkpoint, so a resumed run reads exactly the batches an uninterrupted one would.
/// </summary>
public sealed record DataCursor(long Epoch, long Position, long ShuffleSeed)
{
    public static DataCursor Start(long shuffleSeed) => new(0, 0, shuffleSeed);
}
