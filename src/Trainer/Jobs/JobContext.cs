using static TorchSharp.torch;

namespace Orchestrator.Trainer.Jobs;

/// <summary>What a job definition is told about the replica it builds.</summary>
public sealed record JobContext
{
    /// <summary>This replica's rank, 0 to <see cref="WorldSize"/> - 1.</summary>
    public int Rank { get; init; }

    /// <summary>How many data-parallel replicas train together (changes when a cluster job resizes).</summary>
    public int WorldSize { get; init; } = 1;

    /// <summary>Where this replica trains; build the model there (<c>model.to(context.Device)</c>).</summary>
    public Device Device { get; init; } = CPU;

    /// <summary>The job's seed (<c>--seed</c>), the same on every rank.</summary>
    public long Seed { get; init; } = 1;

    /// <summary>The job's work dir (absolute): a place for files the job makes, such as a token file.</summary>
    public string WorkDir { get; init; } = Directory.GetCurrentDirectory();

    /// <summary>The job's arguments (<c>--job-arg KEY=VALUE</c>), read with typed getters.</summary>
    public JobArgs Args { get; init; } = JobArgs.Empty;
}
