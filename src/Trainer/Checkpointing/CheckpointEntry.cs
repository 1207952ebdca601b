namespace Orchestrator.Trainer.Checkpointing;

/// <summary>A committed checkpoint folder found in a checkpoint directory, and whether it verified.</summary>
public sealed record CheckpointEntry(string Name, long Iteration, string Path)
{
    /// <summary>The bytes of its regular files; a link or device planted in it is neither followed nor counted.</summary>
    public long RegularFileBytes() => CheckpointFileGuard.RegularFileBytes(Path);
}

/// <summary>
/// The outcome of checking a checkpoint against its manifest; <see cref="Problem"/> is one line, and
/// <see cref="Checksum"/> names the hash a valid one was checked with ("XXH128", or "SHA-256" for format 1).
/// </summary>
public sealed record VerificationResult(string Name, string Path, string? Problem, string? Checksum = null)
{
    public bool IsValid => Problem is null;
}
