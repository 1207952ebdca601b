namespace Orchestrator.Trainer.Checkpointing;

/// <summary>A committed checkpoint folder found in a checkpoint directory, and whether it verified.</summary>
public sealed record CheckpointEntry(string Name, long Iteration, string Path);

/// <summary>The outcome of checking a checkpoint against its manifest; <see cref="Problem"/> is one line.</summary>
public sealed record VerificationResult(string Name, string Path, string? Problem)
{
    public bool IsValid => Problem is null;
}
