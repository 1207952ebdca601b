namespace Orchestrator.Trainer.Jobs;

/// <summary>
/// Settings shared by the built-in jobs. Every value has a default that trains in seconds on a laptop; a
/// config file (JSON) or command-line flags override them. Rank/Ranks pick this process's data shard.
/// </summary>
public sealed record BuiltInJobOptions
{
    public long Seed { get; init; } = 1;
    public int? BatchSize { get; init; }
    public double? LearningRate { get; init; }
    public int? Samples { get; init; }
    public int? Width { get; init; }
    public string Device { get; init; } = "cpu";
    public int Rank { get; init; }
    public int Ranks { get; init; } = 1;
}
