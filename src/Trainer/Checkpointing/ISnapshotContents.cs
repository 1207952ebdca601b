namespace Orchestrator.Trainer.Checkpointing;

/// <summary>
/// What a commit writes: the info, then each component when the writer comes to it. A snapshot in memory
/// has them all; a pending one hands each over as soon as its background copy is done, so the writer is
/// already writing the weights while the optimizer's moments are still being copied.
/// </summary>
public interface ISnapshotContents
{
    CheckpointInfo Info { get; }

    /// <summary>The components, in the order the writer should take them (those ready first).</summary>
    IReadOnlyList<string> ComponentNames { get; }

    /// <summary>One component; blocks until it is captured and rethrows a failed copy.</summary>
    ComponentState Component(string name);

    /// <summary>weights-sha256 of the captured model, computed beside the write; "" without a model.</summary>
    Task<string> WeightsDigest();
}
