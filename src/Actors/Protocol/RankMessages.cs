using Orchestrator.Trainer.Distributed;

namespace Orchestrator.Actors.Protocol;

// Messages between the job supervisor and its rank trainers. Every one carries the generation (which
// incarnation of the ranks it belongs to) so answers from ranks replaced after a failure are ignored.
// They carry data only, never live objects, so they can cross the network unchanged.

/// <summary>Build the replica; restore from <paramref name="ResumeFrom"/> or load weights from <paramref name="LoadWeightsFrom"/>.</summary>
public sealed record StartRank(int Generation, string? ResumeFrom, string? LoadWeightsFrom, bool SkipOptimizerState, bool SkipSchedulerState);

/// <summary>Restore an already built replica from a checkpoint, in place (a peer failed before any step since).</summary>
public sealed record ReloadCheckpoint(int Generation, string Path);

/// <remarks><paramref name="RingEndpoint"/>: host:port where this rank takes its ring link (null: it has no ring listener).</remarks>
public sealed record RankReady(int Generation, int Rank, long Step, long BatchesPerEpoch, string WeightsSha256, string[] Notes, string? RingEndpoint = null);

/// <summary>
/// Average this generation's gradients around a ring with the other ranks instead of through the supervisor:
/// connect to the next rank at <paramref name="NextEndpoint"/> and take the previous rank's link, both opened
/// with <paramref name="Token"/>. A neighbour silent for <paramref name="TimeoutSeconds"/> fails the step.
/// </summary>
public sealed record JoinRing(int Generation, string NextEndpoint, string Token, double TimeoutSeconds, Gradients.GradientWireType WireType);

/// <summary>
/// Run forward and backward for <paramref name="Step"/>; <paramref name="Fault"/> is an injected fault, if
/// any. <paramref name="Alone"/> (a job of one rank) applies the step at once instead of sending gradients,
/// and then goes on through step <paramref name="Through"/>, answering each step, without waiting in between.
/// </summary>
public sealed record ComputeGradients(int Generation, long Step, FaultKind? Fault, bool Alone = false, long Through = 0)
{
    public long LastStep => Math.Max(Step, Through);
}



/// <summary>
/// A step this rank has applied. <paramref name="Seconds"/> is the step's own duration, measured by a rank
/// that steps alone (0 when it waited for averaged gradients: the supervisor's clock tells that duration).
/// </summary>
/// <remarks><paramref name="SaveRequested"/>: the job asked for a checkpoint (<c>TrainingJob.RequestSave</c>) during this step.</remarks>
public sealed record StepApplied(int Generation, int Rank, long Step, long Epoch, bool EpochEnded, double LearningRate, double Loss = double.NaN, long Samples = 0, double Seconds = 0, bool SaveRequested = false, double RingSeconds = 0);

/// <summary>
/// Steps of a one-rank job's run-ahead window, reported together: one message every few milliseconds
/// instead of one per step, since waking the supervisor's thread cost the stepping thread tens of
/// microseconds each time. The window's last step still comes alone, as the answer the supervisor waits for.
/// </summary>
public sealed record StepsApplied(int Generation, StepApplied[] Steps);

public sealed record ExportBuffers(int Generation, long Step);

public sealed record BuffersExported(int Generation, int Rank, long Step, float[] Values);

public sealed record ImportBuffers(int Generation, long Step, float[] Values);

public sealed record BuffersImported(int Generation, int Rank, long Step, string WeightsSha256);

/// <summary>To rank 0 only: snapshot now and write; <paramref name="Blocking"/> waits for the write.</summary>
public sealed record SaveCheckpoint(int Generation, long Step, string Reason, bool Blocking);

/// <summary>The snapshot is taken; training may go on while it is written.</summary>
public sealed record CheckpointCaptured(int Generation, long Step, double StallMilliseconds);

/// <summary>A checkpoint is durable on disk (sent when the background write commits).</summary>
public sealed record CheckpointWritten(
    int Generation, long Step, string Name, string Path, string WeightsSha256, string Reason, long Bytes,
    double StallMilliseconds, double WriteMilliseconds, string[] Deleted, bool AlreadyPresent);

/// <summary>
/// The rank's work threw; the supervisor decides what that means. <paramref name="Permanent"/> marks errors
/// that a restart cannot cure (a checkpoint of another model, bad settings): the job is refused instead.
/// <paramref name="DiskFull"/>: a write found the disk full; restarts would too, so the job fails at once.
/// <paramref name="RefusedCheckpoint"/>: the path of the checkpoint the rank was told to start from and found
/// corrupt (it verified, but its restore refused it); the supervisor may start from an older one instead.
/// </summary>
public sealed record RankWorkFailed(int Generation, int Rank, long Step, string Reason, bool Permanent = false, bool DiskFull = false, string? RefusedCheckpoint = null);
