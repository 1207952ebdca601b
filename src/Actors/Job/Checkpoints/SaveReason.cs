namespace Orchestrator.Actors.Job.Checkpoints;

/// <summary>Why a checkpoint is taken; decides whether training goes on after it and how the job ends.</summary>
public enum SaveReason
{
    /// <summary>The schedule (every N steps, epochs or minutes): written in the background while training goes on.</summary>
    Schedule,

    /// <summary>A stop (Ctrl-C, SIGTERM, an operator): the job stops once it is written.</summary>
    Interrupt,

    /// <summary>The world grows or shrinks: every rank restarts from it once it is written.</summary>
    Resize,

    /// <summary>The last step of a run with <c>--save-last</c>: the job completes once it is written.</summary>
    Final,

    /// <summary>The job's own code asked for one (<c>TrainingJob.RequestSave</c>).</summary>
    Requested,
}

/// <summary>
/// The reason's spelling in checkpoint metadata, on the wire and in the journal (<c>CheckpointCommitted.Reason</c>):
/// strings, so checkpoints and journals written before the enum read back the same.
/// </summary>
public static class SaveReasons
{
    public static string ToText(this SaveReason reason) => reason switch
    {
        SaveReason.Schedule => "schedule",
        SaveReason.Interrupt => "interrupt",
        SaveReason.Resize => "resize",
        SaveReason.Final => "final",
        SaveReason.Requested => "requested",
        _ => throw new ArgumentOutOfRangeException(nameof(reason), reason, null),
    };

    /// <summary>Every save but a scheduled one makes the rank wait until it is on disk.</summary>
    public static bool Blocks(this SaveReason reason) => reason != SaveReason.Schedule;

    /// <summary>Training goes on once the save is captured; the other saves end the run or its world.</summary>
    public static bool TrainingGoesOn(this SaveReason reason) => reason is SaveReason.Schedule or SaveReason.Requested;
}
