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
