using Orchestrator.Trainer.Checkpointing;
using Orchestrator.Trainer.Jobs;

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
}
