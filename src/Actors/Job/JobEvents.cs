using Orchestrator.Trainer.Jobs.Loading;

namespace Orchestrator.Actors.Job;

// The job's journal: what happened, in order. Events are facts in the past tense and carry plain data
// only, so the journal reads back the same in any later version and on any machine.

public abstract record JobEvent(DateTimeOffset At);

public sealed record JobSubmitted(JobSpec Spec, DateTimeOffset At) : JobEvent(At);

/// <summary>The same job was submitted again asking for more steps than it has.</summary>
public sealed record JobExtended(long? Steps, long? Epochs, DateTimeOffset At) : JobEvent(At);

/// <summary>The user resubmitted the job with other code (<c>--resume PATH</c>); from here on it runs <paramref name="Assembly"/>.</summary>
public sealed record JobCodeChanged(JobAssemblyRef Assembly, string FromCheckpoint, DateTimeOffset At) : JobEvent(At);

/// <summary><paramref name="Nodes"/> names where each rank runs, on a cluster (null in one process).</summary>
public sealed record RanksStarted(int Generation, int Ranks, string? FromCheckpoint, long FromStep, DateTimeOffset At, string[]? Nodes = null) : JobEvent(At);

/// <summary>A planned change of world size at a checkpoint (a node joined or is drained); not a failure.</summary>
public sealed record WorldResized(int FromRanks, int ToRanks, string Checkpoint, long Step, string Reason, DateTimeOffset At) : JobEvent(At);

public sealed record CheckpointCommitted(long Step, string Name, string Path, string WeightsSha256, double Loss, string Reason, DateTimeOffset At) : JobEvent(At);

public sealed record FaultFired(string FaultId, DateTimeOffset At) : JobEvent(At);

public sealed record RankFailed(int Generation, int Rank, long Step, string Reason, DateTimeOffset At) : JobEvent(At);

/// <summary>Recovery decided: <paramref name="Mode"/> is "all" (every rank from the checkpoint) or "one" (only the failed rank recreated).</summary>
public sealed record RestartScheduled(int Generation, string Mode, int FailedRank, string? FromCheckpoint, long FromStep, long StepsRedone, double DelayMilliseconds, DateTimeOffset At) : JobEvent(At);

public sealed record JobCompleted(long Step, string WeightsSha256, DateTimeOffset At) : JobEvent(At);

public sealed record JobFailed(string Reason, string? LastCheckpoint, DateTimeOffset At) : JobEvent(At);

public sealed record JobStopped(long Step, string? Checkpoint, DateTimeOffset At) : JobEvent(At);
