using Orchestrator.Actors.Job.Checkpoints;
using Orchestrator.Trainer.Checkpointing;

namespace Orchestrator.Actors.Job.Steps;

/// <summary>What the supervisor knows at a step boundary that decides what comes next.</summary>
/// <param name="SinceSave">Time since the last checkpoint (for a schedule by time).</param>
internal sealed record StepSituation(long Total, CheckpointSchedule Schedule, bool StopRequested, bool ResizePending, bool SaveRequested, TimeSpan SinceSave);

/// <summary>What follows a step every rank has applied.</summary>
internal abstract record StepEnd
{
    public sealed record NextStep : StepEnd
    {
        public static readonly NextStep Instance = new();
    }

    /// <summary>A checkpoint round; a null <paramref name="Reason"/> syncs buffers and checks replicas but saves nothing (the end of a run without --save-last).</summary>
    public sealed record Checkpoint(SaveReason? Reason) : StepEnd;
}

/// <summary>
/// The step loop's decisions, pure: what a step's end leads to, whether the next step may start as the last
/// average leaves, and how far a one-rank job may run ahead.
/// </summary>
internal static class StepPlan
{
    private const int MaxRunAhead = 64;
    private static readonly TimeSpan RunAheadWindow = TimeSpan.FromMilliseconds(50);

    /// <summary>Before a step starts: a stop saves and ends; a drained node moves its work off at once.</summary>
    public static SaveReason? BeforeStep(bool stopRequested, bool drainPending) =>
        stopRequested ? SaveReason.Interrupt : drainPending ? SaveReason.Resize : null;

    /// <summary>After step <paramref name="step"/>, applied by every rank.</summary>
    public static StepEnd AtStepEnd(long step, bool epochEnded, long epoch, StepSituation now)
    {
        if (step >= now.Total)
        {
            return new StepEnd.Checkpoint(now.Schedule.SaveLast ? SaveReason.Final : null);
        }
        if (now.StopRequested)
        {
            // A stop that came during a run-ahead window is acted on at its end, which is often a
            // scheduled checkpoint's step: one save there, as the interrupt it is, not two of one step.
            return new StepEnd.Checkpoint(SaveReason.Interrupt);
        }
        if (now.Schedule.IsDue(step, epochEnded, epoch, now.SinceSave))
        {
            // Growing restarts every rank from this checkpoint, so it is written before training goes on.
            return new StepEnd.Checkpoint(now.ResizePending ? SaveReason.Resize : SaveReason.Schedule);
        }
        if (now.SaveRequested)
        {
            return new StepEnd.Checkpoint(now.ResizePending ? SaveReason.Resize : SaveReason.Requested);
        }
        return StepEnd.NextStep.Instance;
    }

    /// <summary>
    /// Whether step <paramref name="finished"/>'s end must be waited for, rather than the next step started as
    /// its last average leaves (see the supervisor's StartNextOnAverage). A checkpoint due by time is judged as
    /// the average leaves: one that comes due while the ranks apply it waits for the next step's end.
    /// </summary>
    public static bool DecidedAtEnd(long finished, StepSituation now, bool faultDueNext) =>
        finished >= now.Total || now.StopRequested || now.ResizePending || now.SaveRequested
        || now.Schedule.EveryEpochs is not null // where epochs end is the ranks' to tell, in their step ends
        || now.Schedule.IsDue(finished, false, 0, now.SinceSave)
        || faultDueNext;

    /// <summary>
    /// How far a one-rank job may step without waiting for the supervisor: nothing is averaged, so the
    /// supervisor is needed only at checkpoints, injected faults, the last step, and between windows of
    /// about <see cref="RunAheadWindow"/> of steps, where stop, drain and resize requests are acted on. A
    /// one-millisecond step then no longer waits for two thread hand-offs.
    /// </summary>
    public static long RunAheadTo(long step, long total, CheckpointSchedule schedule, TimeSpan stepDuration, long? nextFault)
    {
        if (schedule.EveryEpochs is not null || stepDuration <= TimeSpan.Zero)
        {
            return step; // where epochs end is the rank's to know; and the first step has no duration yet
        }
        var through = Math.Min(total, step + (long)Math.Clamp(RunAheadWindow / stepDuration, 1, MaxRunAhead) - 1);
        if (schedule.EveryIterations is { } every)
        {
            through = Math.Min(through, (step + every - 1) / every * every);
        }
        if (nextFault is { } fault)
        {
            through = Math.Min(through, fault - 1);
        }
        return Math.Max(step, through);
    }
}
