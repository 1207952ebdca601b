using Akka.Actor;

namespace Orchestrator.Bench;

/// <summary>
/// Asks the supervisor's side (in this process) to run one step with rank 1 (in the peer process) and answer
/// when rank 1 has applied the average.
/// </summary>
internal sealed record RunStep(long Step, IActorRef Rank);

internal sealed record StepSynced(long Step);
