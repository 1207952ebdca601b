using Orchestrator.Trainer.Checkpointing;
using Orchestrator.Trainer.Jobs;
using Orchestrator.Trainer.Jobs.Loading;

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

    /// <summary>The user's job assembly (path and SHA-256 at submission); null for a built-in job.</summary>
    public JobAssemblyRef? JobAssembly { get; init; }

    /// <summary>The job's <c>--job-arg</c> pairs, as given.</summary>
    public Dictionary<string, string>? JobArgs { get; init; }

    /// <summary>The global batch the job's data source shards, learnt when the job was checked; null if it does not say.</summary>
    public int? GlobalBatchSize { get; init; }
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

    /// <summary>How averaged gradients travel (<c>--gradient-dtype</c>): fp32, or bf16/fp16 with the sums still in fp32.</summary>
    public Gradients.GradientWireType GradientWire { get; init; }

    public string CheckpointDirectory => Path.Combine(WorkDir, "checkpoints");

    /// <summary>The batch every world size must divide: the job's own word, or a built-in job's setting.</summary>
    public int? BatchToDivide() => GlobalBatchSize ?? (JobAssembly is null && JobCatalog.Find(Job) is not null ? JobCatalog.BatchSize(Job, JobOptions) : null);

    /// <summary>How the job is named to people: the job, and for a user's job the file it comes from.</summary>
    public string Describe() => JobAssembly is null ? Job : $"{Job} from {JobAssembly.Path} (sha256 {JobAssembly.ShortSha256()})";
}
