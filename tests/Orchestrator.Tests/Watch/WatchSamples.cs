using Orchestrator.Cli.Terminal.Watch;

namespace Orchestrator.Tests.Watch;

/// <summary>Snapshots as the sources build them, for the view tests.</summary>
internal static class WatchSamples
{
    public static readonly DateTimeOffset Noon = new(2026, 11, 23, 12, 0, 3, TimeSpan.Zero);

    public static JobSnapshot Job(long step = 340, int restarts = 1, string state = "running", string[]? rankNodes = null) => new(
        Job: "mlp",
        WorkDir: "/runs/a",
        State: state,
        Why: null,
        Step: step,
        Total: 1000,
        Epochs: null,
        Losses: [0.9, 0.7, 0.55, 0.48, 0.4123],
        StepsPerSecond: 3.2,
        Checkpoint: "iter_300",
        CheckpointAt: Noon.AddSeconds(-4),
        Restarts: restarts,
        Failures: restarts,
        Ranks: rankNodes?.Length ?? 1,
        RankNodes: rankNodes ?? []);
}
