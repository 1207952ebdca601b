namespace Orchestrator.Trainer.Checkpointing;

/// <summary>A checkpoint that is intact but does not fit this job (other model, other shapes, other optimizer).</summary>
public sealed class CheckpointMismatchException(string message) : Exception(message);

/// <summary>A checkpoint whose files are missing, truncated or corrupt.</summary>
public sealed class CorruptCheckpointException(string message) : Exception(message);
