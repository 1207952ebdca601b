namespace Orchestrator.Trainer.Data;

/// <summary>
/// A source of batches addressed by cursor. Reading is a pure function of the cursor, so the training loop
/// can commit the cursor only after a step succeeds and a resumed run can seek straight to where it was.
/// </summary>
public interface IDataSource
{
    long BatchesPerEpoch { get; }

    /// <summary>
    /// The global batch (all ranks together) when the source is a shard of it, or null. A cluster job only
    /// runs at world sizes that divide it, so every rank reads an equal share.
    /// </summary>
    int? GlobalBatchSize => null;

    Batch Read(DataCursor cursor);

    DataCursor Advance(DataCursor cursor) =>
        cursor.Position + 1 >= BatchesPerEpoch ? cursor with { Epoch = cursor.Epoch + 1, Position = 0 } : cursor with { Position = cursor.Position + 1 };
}
