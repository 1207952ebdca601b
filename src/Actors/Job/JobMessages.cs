using Orchestrator.Trainer.Checkpointing;
using Orchestrator.Trainer.Training;

namespace Orchestrator.Actors.Job;

/// <summary>Run the job to its end; the supervisor answers the sender with <see cref="JobFinished"/>.</summary>
public sealed class RunJob
{
    public static readonly RunJob Instance = new();
}

/// <summary>Checkpoint at the next step boundary, then stop all ranks (Ctrl-C, SIGTERM, an operator).</summary>
public sealed class StopJob
{
    public static readonly StopJob Instance = new();
}

public enum JobOutcome
{
    Completed,
    AlreadyComplete,
    Stopped,
    Failed,
    Refused,
}

public sealed record JobFinished(JobOutcome Outcome, long Step, string? WeightsSha256, string Message);

/// <summary>What the supervisor tells whoever shows progress (the command line's console, a test probe).</summary>
public sealed record ProgressStarted(RunStart Start, StartupTimes Startup);

/// <summary>
/// Where a job's start went: the replay of its journal (from the supervisor's creation), and from the request
/// to run to every rank ready (choosing and verifying the checkpoint, building the replicas, loading it).
/// </summary>
public sealed record StartupTimes(TimeSpan JournalRecovery, TimeSpan RanksStarted);

public sealed record ProgressStep(StepReport Step);

public sealed record ProgressSaved(SaveReport Save);

public sealed record ProgressNote(string Message);

/// <summary>The job restarts from <paramref name="FromStep"/>; <paramref name="Restarts"/> counts them so far.</summary>
public sealed record ProgressRestart(long FromStep, int Restarts);
