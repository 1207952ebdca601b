namespace Orchestrator.Trainer.Checkpointing;

/// <summary>
/// Anything whose state belongs in a checkpoint. <see cref="Capture"/> runs on the training thread between
/// steps and must copy what it needs into host memory; <see cref="Restore"/> returns notes worth telling the
/// user (keys skipped in a non-strict load, say).
/// </summary>
public interface ICheckpointable
{
    ComponentState Capture();

    IReadOnlyList<string> Restore(ComponentState state);
}

/// <summary>
/// A checkpointable with large state that only an optimizer step or a restore changes (parameters, optimizer
/// moments), so that its copy can run on a background thread during the next forward and backward pass.
/// The <see cref="CheckpointComponents"/> makes every optimizer step, restore and disposal wait for that copy.
/// </summary>
public interface IDeferredCheckpointable : ICheckpointable
{
    /// <summary>
    /// Copies, on the training thread, whatever a forward or backward pass may change, and returns the rest
    /// of the capture: a function run once on a background thread, which may read only state that nothing
    /// changes before the next optimizer step or restore. Host arrays come from <paramref name="buffers"/>
    /// (they are reused by later snapshots once this one is written).
    /// </summary>
    Func<ComponentState> Capture(SnapshotBuffers buffers);
}

/// <summary>
/// A checkpointable whose saved state can be found corrupt only when <see cref="ICheckpointable.Restore"/>
/// parses it (the optimizer's blob, in TorchSharp's own format), which then throws
/// <see cref="CorruptCheckpointException"/>. The <see cref="CheckpointComponents"/> restores such components before
/// the others, and a refusal leaves the component's state as it was: a refused checkpoint changes nothing, so
/// the caller can resume from an older one or start fresh.
/// </summary>
public interface IRefusedOnRestore : ICheckpointable
{
}
