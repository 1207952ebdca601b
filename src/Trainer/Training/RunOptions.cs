using Orchestrator.Trainer.Checkpointing;

namespace Orchestrator.Trainer.Training;

/// <summary>How a run starts with respect to existing checkpoints (mmengine's load_or_resume).</summary>
public enum ResumeMode
{
    /// <summary>Resume from the newest valid checkpoint in the work dir, or start fresh if there is none.</summary>
    Auto,

    /// <summary>Start fresh; refuses a work dir that has checkpoints unless DeleteExisting is set.</summary>
    None,

    /// <summary>Resume from the checkpoint at <see cref="RunOptions.ResumePath"/>.</summary>
    Path,
}

/// <summary>Everything about a run that is not the job itself.</summary>
public sealed record RunOptions
{
    public required string WorkDir { get; init; }

    /// <summary>Total training steps. Exactly one of Steps and Epochs is set.</summary>
    public long? Steps { get; init; }

    public long? Epochs { get; init; }

    public long Seed { get; init; } = 1;

    public int Threads { get; init; } = Runtime.DeterministicRuntime.DefaultThreads;

    public CheckpointSchedule Schedule { get; init; } = new(EveryIterations: 100);

    /// <summary>Keep the newest K checkpoints; 0 keeps all.</summary>
    public int Keep { get; init; }

    public string NameTemplate { get; init; } = CheckpointNaming.IterationTemplate;

    public ResumeMode Resume { get; init; } = ResumeMode.Auto;

    public string? ResumePath { get; init; }

    /// <summary>Weights only (fine-tuning): counters, optimizer and schedule start fresh.</summary>
    public string? LoadFrom { get; init; }

    public ModelLoadOptions ModelLoad { get; init; } = ModelLoadOptions.Default;

    public bool SkipOptimizerState { get; init; }

    public bool SkipSchedulerState { get; init; }

    /// <summary>With <see cref="ResumeMode.None"/>: delete the work dir's checkpoints first.</summary>
    public bool DeleteExisting { get; init; }

    /// <summary>Off: every save is written on the training thread (for comparison and tests).</summary>
    public bool AsyncSave { get; init; } = true;

    public string CheckpointDirectory => System.IO.Path.Combine(WorkDir, "checkpoints");
}
