namespace Orchestrator.Trainer.Training;

/// <summary>Turns impossible option combinations into one-line <see cref="ArgumentException"/>s before any work starts.</summary>
public static class RunOptionsValidator
{
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
        if (options.Threads <= 0)
        {
            throw new ArgumentException("--threads must be positive");
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
