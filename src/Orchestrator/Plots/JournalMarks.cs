using System.Globalization;
using Orchestrator.Actors.Job;

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
/// journal knew of (see <see cref="JobInterruptions"/>, shared with history and status). A checkpoint step
/// committed twice (recorded again after a rerun) counts once.
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
        // The process deaths come from the same walk that history and status count, placed at the event
        // that revealed each (its failure) and at the rerun's start of ranks (its resume).
        var deaths = JobInterruptions.FindProcessInterruptions(journal);
        var revealed = deaths.ToLookup(d => d.RevealedAt);
        var resumedBy = deaths.Where(d => d.ResumedAt is not null).ToLookup(d => d.ResumedAt!.Value);

        for (var i = 0; i < journal.Count; i++)
        {
            foreach (var death in revealed[i])
            {
                failures.Add(death.Killed
                    ? new FailureMark(death.Step, FailureKind.ProcessKilled, "process killed")
                    : new FailureMark(death.Step, FailureKind.ProcessEnded, "process ended"));
            }
            foreach (var death in resumedBy[i])
            {
                resumes.Add(new ResumeSpan(death.Resume!.FromStep, death.Step, death.StepsRedone, death.Resume.FromCheckpoint));
            }
            switch (journal[i])
            {
                case CheckpointCommitted committed:
                    if (checkpoints.All(c => c.Step != committed.Step))
                    {
                        checkpoints.Add(new CheckpointMark(committed.Step, committed.Name, committed.Reason));
                    }
                    break;
                case RankFailed failed:
                    failures.Add(new FailureMark(failed.Step, FailureKind.RankFailed, $"rank {failed.Rank} failed"));
                    break;
                case RestartScheduled restart:
                    // The failed step is the one after the last step done, which is FromStep + StepsRedone.
                    resumes.Add(new ResumeSpan(restart.FromStep, restart.FromStep + restart.StepsRedone + 1, restart.StepsRedone, restart.FromCheckpoint));
                    break;
                case WorldResized resized:
                    resizes.Add(new ResizeMark(resized.Step, resized.FromRanks, resized.ToRanks));
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
}
