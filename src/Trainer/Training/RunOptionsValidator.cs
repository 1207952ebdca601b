namespace Orchestrator.Trainer.Training;

/// <summary>Turns impossible option combinations into one-line <see cref="ArgumentException"/>s before any work starts.</summary>
public static class RunOptionsValidator
{
    /// <summary>
    /// The most torch intra-op threads a rank may ask for. A fixed number, not a multiple of this machine's
    /// cores, because the thread count is part of a run's reproducible result and travels with its
    /// checkpoints: a command valid on one machine stays valid on another. 1,024 is above the core count of
    /// any one machine we train on; far beyond it (100,000) the threads alone stall a rank past its step
    /// timeout and the job loops through hung-rank restarts.
    /// </summary>
    public const int MaxThreads = 1024;

    public static void Validate(RunOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.WorkDir))
        {
            throw new ArgumentException("a work dir is required (--work-dir DIR)");
        }
        if ((options.Steps is null) == (options.Epochs is null))
        {
            throw new ArgumentException("give exactly one of --steps N and --epochs E");
        }
        if (options.Steps is <= 0 || options.Epochs is <= 0)
        {
            throw new ArgumentException("--steps and --epochs must be positive");
        }
        if (options.Keep < 0)
        {
            throw new ArgumentException("--keep must be 0 (keep all) or more");
        }
        if (options.Threads is <= 0 or > MaxThreads)
        {
            throw new ArgumentException($"--threads {options.Threads} is out of range: give 1 to {MaxThreads}");
        }
        if (options.Resume == ResumeMode.Path && string.IsNullOrWhiteSpace(options.ResumePath))
        {
            throw new ArgumentException("--resume PATH needs a checkpoint path");
        }
        if (options.DeleteExisting && options.Resume != ResumeMode.None)
        {
            throw new ArgumentException("--delete-existing only goes with --resume none (a fresh start)");
        }
        options.Schedule.Validate();
        _ = new Checkpointing.CheckpointNaming(options.NameTemplate);
    }
}
