namespace Orchestrator.Actors.Job;

public enum JobStatus
{
    New,
    Running,
    Restarting,
    Completed,
    Failed,
    Stopped,
}

/// <summary>
/// The job as the journal tells it, evolved only by <see cref="Apply"/>: a pure function, tested without an
/// actor system, and what the supervisor snapshots.
/// </summary>
public sealed record JobState
{
    public static readonly JobState Empty = new();

    public JobStatus Status { get; init; } = JobStatus.New;
    public JobSpec? Spec { get; init; }
    public CheckpointCommitted? LastCheckpoint { get; init; }
    public long Step { get; init; }
    public int Generation { get; init; }
    public DateTimeOffset[] Restarts { get; init; } = [];
    public string[] FiredFaults { get; init; } = [];
    public string? FinalWeightsSha256 { get; init; }
    public string? FailureReason { get; init; }
    public int Failures { get; init; }

    public JobState Apply(JobEvent e) => e switch
    {
        JobSubmitted s => this with { Spec = s.Spec, Status = JobStatus.Running },
        JobExtended x => this with { Spec = Spec! with { Steps = x.Steps, Epochs = x.Epochs }, Status = JobStatus.Running, FinalWeightsSha256 = null },
        JobCodeChanged c => this with { Spec = Spec! with { JobAssembly = c.Assembly } },
        RanksStarted r => this with { Status = JobStatus.Running, Generation = r.Generation, Step = r.FromStep },
        CheckpointCommitted c => this with { LastCheckpoint = LastCheckpoint is { } last && last.Step > c.Step ? last : c, Step = Math.Max(Step, c.Step) },
        FaultFired f => this with { FiredFaults = [.. FiredFaults, f.FaultId] },
        WorldResized => this,
        RankFailed => this with { Failures = Failures + 1 },
        RestartScheduled r => this with { Status = JobStatus.Restarting, Generation = r.Generation, Restarts = [.. Restarts, r.At] },
        JobCompleted c => this with { Status = JobStatus.Completed, Step = c.Step, FinalWeightsSha256 = c.WeightsSha256 },
        JobFailed f => this with { Status = JobStatus.Failed, FailureReason = f.Reason },
        JobStopped s => this with { Status = JobStatus.Stopped, Step = s.Step },
        _ => throw new ArgumentException($"unknown job event {e.GetType().Name}"),
    };
}
