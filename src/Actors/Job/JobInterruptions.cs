using Orchestrator.Trainer.Distributed;

namespace Orchestrator.Actors.Job;

/// <summary>
/// A process that ended without recording how its job ended (kill -9, a crash, power lost): the dead process
/// could not write it, so it shows only as the next process starting ranks (or extending the job) while the
/// journal still says the previous one was running.
/// </summary>
/// <param name="RevealedAt">Index of the journal event that showed the process had died.</param>
/// <param name="Step">The step it died at: an injected <c>kill-process</c> fault's step, else the one after the last step the journal knew of.</param>
/// <param name="Killed">An injected <c>kill-process</c> fault fired: the step is exact.</param>
/// <param name="ResumedAt">Index of the <see cref="RanksStarted"/> of the rerun that resumed it; null if none has yet.</param>
/// <param name="Resume">That start: the step and checkpoint the rerun resumed from.</param>
public sealed record ProcessInterruption(int RevealedAt, long Step, bool Killed, int? ResumedAt, RanksStarted? Resume)
{
    /// <summary>Steps done before the death that the rerun had to do again (the failed step itself not counted).</summary>
    public long StepsRedone => Resume is { } r ? Math.Max(0, Step - 1 - r.FromStep) : 0;
}

/// <summary>
/// The two kinds of trouble a journal records, counted from one walk so that <c>history</c>, <c>status</c>
/// and <c>plot</c> agree: rank failures, each restarted inside the running process (<see cref="RankFailed"/>,
/// <see cref="RestartScheduled"/>), and process interruptions, each resumed by a rerun (<see cref="ProcessInterruption"/>).
/// </summary>
public sealed record JobInterruptions(int RankFailures, int Restarts, long StepsRedoneByRestarts, IReadOnlyList<ProcessInterruption> Processes)
{
    public int ProcessInterruptionCount => Processes.Count;

    public int Resumes => Processes.Count(p => p.ResumedAt is not null);

    /// <summary>Every failure: ranks that failed and processes that died.</summary>
    public int Failures => RankFailures + ProcessInterruptionCount;

    /// <summary>Every recovery: restarts inside a process and resumes by a rerun.</summary>
    public int Recoveries => Restarts + Resumes;

    public long StepsRedone => StepsRedoneByRestarts + Processes.Sum(p => p.StepsRedone);

    public static JobInterruptions Of(IReadOnlyList<JobEvent> journal) => new(
        journal.OfType<RankFailed>().Count(),
        journal.OfType<RestartScheduled>().Count(),
        journal.OfType<RestartScheduled>().Sum(r => r.StepsRedone),
        FindProcessInterruptions(journal));

    public static IReadOnlyList<ProcessInterruption> FindProcessInterruptions(IReadOnlyList<JobEvent> journal)
    {
        var found = new List<ProcessInterruption>();
        var running = false;            // ranks started and no end recorded: the process that started them is alive, or died silently
        var nextStartIsPlanned = false; // the next RanksStarted follows a restart or resize the journal already explains
        long lastKnownStep = 0;         // in the current process, for deaths with no fault to say where
        long? killedAt = null;          // an injected kill-process fault fired at this step in the current process
        int? awaitingResume = null;     // index in found of a death whose rerun has not started ranks yet

        void ProcessDied(int index)
        {
            found.Add(new ProcessInterruption(index, killedAt ?? lastKnownStep + 1, killedAt is not null, null, null));
            awaitingResume = found.Count - 1;
            running = false;
            killedAt = null;
        }

        for (var i = 0; i < journal.Count; i++)
        {
            switch (journal[i])
            {
                case JobSubmitted or JobExtended:
                    if (running)
                    {
                        ProcessDied(i);
                    }
                    nextStartIsPlanned = false;
                    break;
                case RanksStarted started:
                    if (running && !nextStartIsPlanned)
                    {
                        ProcessDied(i);
                    }
                    if (awaitingResume is { } died)
                    {
                        found[died] = found[died] with { ResumedAt = i, Resume = started };
                        awaitingResume = null;
                    }
                    running = true;
                    nextStartIsPlanned = false;
                    lastKnownStep = started.FromStep;
                    break;
                case CheckpointCommitted committed:
                    lastKnownStep = Math.Max(lastKnownStep, committed.Step);
                    break;
                case FaultFired fired when KillStep(fired.FaultId) is { } step:
                    killedAt = step;
                    break;
                case RestartScheduled or WorldResized:
                    nextStartIsPlanned = true;
                    break;
                case JobCompleted or JobFailed or JobStopped:
                    running = false;
                    killedAt = null;
                    break;
            }
        }
        return found;
    }

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
