using System.Globalization;
using Orchestrator.Actors.Job;
using Orchestrator.Trainer.Distributed;

namespace Orchestrator.Cli.Plots;

/// <summary>
/// The job journal turned into marks on the step axis: checkpoints committed, failures, resumes with the
/// steps they redid, and planned resizes.
/// </summary>
/// <remarks>
/// A failure is either a <see cref="RankFailed"/> event (the supervisor saw it and restarted) or the death of
/// the whole process, which the dead process could not record: it shows as the next process starting ranks
/// (or extending the job) while the journal still says the previous one was running. The step of such a
/// death is known when an injected <c>kill-process</c> fault fired; otherwise it is the last step the
/// journal knew of. A checkpoint step committed twice (recorded again after a rerun) counts once.
/// </remarks>
internal sealed record JournalMarks(
    IReadOnlyList<CheckpointMark> Checkpoints,
    IReadOnlyList<FailureMark> Failures,
    IReadOnlyList<ResumeSpan> Resumes,
    IReadOnlyList<ResizeMark> Resizes)
{
    public static JournalMarks Read(IReadOnlyList<JobEvent> journal)
    {
        var checkpoints = new List<CheckpointMark>();
        var failures = new List<FailureMark>();
        var resumes = new List<ResumeSpan>();
        var resizes = new List<ResizeMark>();

        var running = false;        // ranks started and no end recorded: the process that started them is alive, or died silently
        var nextStartIsPlanned = false; // the next RanksStarted follows a restart or resize the journal already explains
        long lastKnownStep = 0;     // in the current process, for deaths with no fault to say where
        long? killedAt = null;      // an injected kill-process fault fired at this step in the current process
        long? diedAt = null;        // a process died at this step; the next RanksStarted is its resume

        void ProcessDied()
        {
            var step = killedAt ?? lastKnownStep + 1;
            failures.Add(killedAt is null
                ? new FailureMark(step, FailureKind.ProcessEnded, "process ended")
                : new FailureMark(step, FailureKind.ProcessKilled, "process killed"));
            diedAt = step;
            running = false;
            killedAt = null;
        }

        foreach (var e in journal)
        {
            switch (e)
            {
                case JobSubmitted or JobExtended:
                    if (running)
                    {
                        ProcessDied();
                    }
                    nextStartIsPlanned = false;
                    break;
                case RanksStarted started:
                    if (running && !nextStartIsPlanned)
                    {
                        ProcessDied();
                    }
                    if (diedAt is { } died)
                    {
                        resumes.Add(new ResumeSpan(started.FromStep, died, Math.Max(0, died - 1 - started.FromStep), started.FromCheckpoint));
                        diedAt = null;
                    }
                    running = true;
                    nextStartIsPlanned = false;
                    lastKnownStep = started.FromStep;
                    break;
                case CheckpointCommitted committed:
                    if (checkpoints.All(c => c.Step != committed.Step))
                    {
                        checkpoints.Add(new CheckpointMark(committed.Step, committed.Name, committed.Reason));
                    }
                    lastKnownStep = Math.Max(lastKnownStep, committed.Step);
                    break;
                case FaultFired fired when KillStep(fired.FaultId) is { } step:
                    killedAt = step;
                    break;
                case RankFailed failed:
                    failures.Add(new FailureMark(failed.Step, FailureKind.RankFailed, $"rank {failed.Rank} failed"));
                    break;
                case RestartScheduled restart:
                    // The failed step is the one after the last step done, which is FromStep + StepsRedone.
                    resumes.Add(new ResumeSpan(restart.FromStep, restart.FromStep + restart.StepsRedone + 1, restart.StepsRedone, restart.FromCheckpoint));
                    nextStartIsPlanned = true;
                    break;
                case WorldResized resized:
                    resizes.Add(new ResizeMark(resized.Step, resized.FromRanks, resized.ToRanks));
                    nextStartIsPlanned = true;
                    break;
                case JobCompleted or JobFailed or JobStopped:
                    running = false;
                    killedAt = null;
                    break;
            }
        }
        return new JournalMarks(checkpoints.OrderBy(c => c.Step).ToList(), failures, resumes, resizes);
    }

    /// <summary>How the journal ends, for the title: <c>completed at step 600</c>, <c>failed</c>, <c>stopped at step 300</c>, <c>running</c>.</summary>
    public static string OutcomeOf(IReadOnlyList<JobEvent> journal) => journal.LastOrDefault(e => e is JobCompleted or JobFailed or JobStopped or RanksStarted or JobSubmitted or JobExtended) switch
    {
        JobCompleted c => string.Create(CultureInfo.InvariantCulture, $"completed at step {c.Step}"),
        JobFailed => "failed: restart limit reached",
        JobStopped s => string.Create(CultureInfo.InvariantCulture, $"stopped at step {s.Step}"),
        _ => "not finished",
    };

    private static long? KillStep(string faultId)
    {
        try
        {
            var fault = FaultSpec.Parse(faultId);
            return fault.Kind == FaultKind.KillProcess ? fault.Step : null;
        }
        catch (ArgumentException)
        {
            return null; // a fault id from another version: not a kill we can place
        }
    }
}
