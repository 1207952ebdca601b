using Akka.Actor;

namespace Orchestrator.Bench;

/// <summary>
/// Asks the supervisor's side (in this process) to run <paramref name="Count"/> steps from
/// <paramref name="From"/> with rank 1 (in the peer process) and answer when rank 1 has applied the last.
/// </summary>
internal sealed record RunSteps(long From, int Count, IActorRef Rank);

internal sealed record StepsSynced(long Step);
