namespace Orchestrator.Bench;

/// <summary>Asks the peer process (rank 1) to send one step's gradients and answer when all averages are back.</summary>
internal sealed record RunStep(long Step);

internal sealed record StepSynced(long Step);
