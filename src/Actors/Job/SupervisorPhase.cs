namespace Orchestrator.Actors.Job;

/// <summary>
/// Where a job's supervisor is: the one answer to "where are we", set only where its behaviour is switched.
/// Each phase has its own message handlers (the supervisor's method of the same name) and its own data.
/// </summary>
internal enum SupervisorPhase
{
    /// <summary>Replayed its journal; waiting to be told to run.</summary>
    Idle,

    /// <summary>
    /// Finding and verifying the checkpoint to (re)start from, on a pool thread: messages wait in the stash,
    /// and a stop ends the job at once.
    /// </summary>
    Discovering,

    /// <summary>Too few devices (or nodes still being checked) for the job's world: no ranks yet.</summary>
    WaitingForRanks,

    /// <summary>Ranks build their replicas and restore the start checkpoint.</summary>
    Starting,

    /// <summary>Steps run: gradients from every rank, their average back to every rank.</summary>
    Stepping,

    /// <summary>A checkpoint round at a step boundary (buffer sync, replica check, rank 0 saves).</summary>
    Checkpointing,

    /// <summary>A checkpoint that ends or resizes the run is captured; its commit is awaited.</summary>
    AwaitingFinalWrite,

    /// <summary>A rank failed while a checkpoint was being written: the restart waits for it to land.</summary>
    AwaitingInFlightWrite,

    /// <summary>A restart is scheduled after its back-off delay.</summary>
    Restarting,

    /// <summary>A stop came before training resumed: the job ends without a save.</summary>
    Stopping,

    /// <summary>The job ended; the asker was told how.</summary>
    Finished,
}

internal static class SupervisorPhases
{
    /// <summary>Ranks are placed and expected to run: a lost node or rank is a failure.</summary>
    public static bool RanksRun(this SupervisorPhase phase) =>
        phase is SupervisorPhase.Starting or SupervisorPhase.Stepping or SupervisorPhase.Checkpointing
            or SupervisorPhase.AwaitingFinalWrite or SupervisorPhase.AwaitingInFlightWrite;

    /// <summary>
    /// Ranks that are starting, or waiting to, have no step to save at (and may never reach one: a hung
    /// start): a stop ends the job now, its newest checkpoint as it is.
    /// </summary>
    public static bool StopsWithoutSave(this SupervisorPhase phase) =>
        phase is SupervisorPhase.WaitingForRanks or SupervisorPhase.Starting or SupervisorPhase.Restarting;

    /// <summary>The state <c>status --cluster</c> shows (its spelling is part of that answer, <see cref="JobLiveStatus.State"/>).</summary>
    public static string StatusText(this SupervisorPhase phase, JobOutcome? outcome) => phase switch
    {
        SupervisorPhase.Idle => "idle",
        SupervisorPhase.Discovering => "starting",
        SupervisorPhase.WaitingForRanks => "waiting",
        SupervisorPhase.Starting => "starting",
        SupervisorPhase.Restarting => "restarting",
        SupervisorPhase.Stopping => "stopping",
        SupervisorPhase.Finished => (outcome ?? JobOutcome.Completed).ToString().ToLowerInvariant(),
        _ => "training",
    };
}
