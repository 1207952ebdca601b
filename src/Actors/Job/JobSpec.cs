using Orchestrator.Trainer.Checkpointing;
using Orchestrator.Trainer.Jobs;

namespace Orchestrator.Actors.Job;

/// <summary>
/// Everything that defines a job run through the actor runtime, recorded in the journal when it is
/// submitted. Steps or Epochs (not both) give its length; faults are injected for tests and demos.
/// </summary>
public sealed record JobSpec
{
    public required string Job { get; init; }
    public required string WorkDir { get; init; }
    public BuiltInJobOptions JobOptions { get; init; } = new();
    public int Ranks { get; init; } = 1;

    /// <summary>On a cluster: run with fewer ranks (down to this) when nodes are lost, and wait below it.</summary>
    public int? MinRanks { get; init; }

    /// <summary>On a cluster: grow up to this many ranks at a checkpoint when nodes join.</summary>
    public int? MaxRanks { get; init; }
    public long? Steps { get; init; }
    public long? Epochs { get; init; }
    public int Threads { get; init; } = 1;
    public CheckpointSchedule Schedule { get; init; } = new(EveryIterations: 100);
    public int Keep { get; init; }
    public string NameTemplate { get; init; } = CheckpointNaming.IterationTemplate;
    public string? ResumePath { get; init; }
    public bool FreshStart { get; init; }
    public string? LoadFrom { get; init; }
    public ModelLoadOptions ModelLoad { get; init; } = ModelLoadOptions.Default;
    public bool SkipOptimizerState { get; init; }
    public bool SkipSchedulerState { get; init; }
    public string[] Faults { get; init; } = [];
    public RestartPolicy Restarts { get; init; } = new();
    public TimeSpan StepTimeout { get; init; } = TimeSpan.FromSeconds(60);

    public string CheckpointDirectory => Path.Combine(WorkDir, "checkpoints");
}
