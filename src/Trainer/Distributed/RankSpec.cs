using Orchestrator.Trainer.Checkpointing;
using Orchestrator.Trainer.Jobs;
using Orchestrator.Trainer.Jobs.Loading;

namespace Orchestrator.Trainer.Distributed;

/// <summary>What a rank needs to build its replica: plain data, so it can be sent to another machine.</summary>
public sealed record RankSpec(
    string Job,
    BuiltInJobOptions JobOptions,
    int Rank,
    int Ranks,
    int Threads,
    string CheckpointDirectory,
    string NameTemplate,
    int Keep)
{
    public ModelLoadOptions ModelLoad { get; init; } = ModelLoadOptions.Default;

    /// <summary>The user's job assembly the job comes from; null for a built-in job.</summary>
    public JobAssemblyRef? JobAssembly { get; init; }

    /// <summary>The <c>--job-arg</c> pairs (the job settings of <see cref="JobOptions"/> join them).</summary>
    public IReadOnlyDictionary<string, string>? JobArgs { get; init; }

    /// <summary>The job's work dir: checkpoints live in its <c>checkpoints</c> folder.</summary>
    public string WorkDir => Path.GetDirectoryName(Path.GetFullPath(CheckpointDirectory))!;

    /// <summary>What the job definition is told about this replica.</summary>
    public JobContext Context() => new()
    {
        Rank = Rank,
        WorldSize = Ranks,
        Device = Runtime.DeterministicRuntime.ResolveDevice(JobOptions.Device),
        Seed = JobOptions.Seed,
        WorkDir = WorkDir,
        Args = JobFactory.Arguments(JobOptions, JobArgs),
    };
}
