using Akka.Actor;
namespace Orchestrator.Actors.Job;

// The finish: the journal's last event, the ranks stopped, the asker told how the job ended.
public sealed partial class JobSupervisor
{
    private void Done(JobOutcome outcome, string message, string? checkpoint)
    {
        Timers.Cancel(PhaseTimer);
        var digest = _digests.OfRankZero ?? _state.LastCheckpoint?.WeightsSha256;
        JobEvent final = outcome == JobOutcome.Stopped ? new JobStopped(_step, checkpoint, Now) : new JobCompleted(_step, digest ?? "", Now);
        Record(final, () =>
        {
            _ranks.StopAll();
            Finish(outcome, message, digest);
        });
    }

    private void Finish(JobOutcome outcome, string message, string? digest = null)
    {
        _progress.Ended();
        _outcome = outcome;
        _why = outcome is JobOutcome.Failed or JobOutcome.Refused ? message : null;
        _requester?.Tell(new JobFinished(outcome, _step, digest, message));
        Enter(SupervisorPhase.Finished, Finished);
    }

    private void Finished()
    {
        Common();
    }

    private void StopRequested()
    {
        _stopRequested = true;
        if (_phase.StopsWithoutSave())
        {
            StopWithoutSave();
        }
    }

    private void StopWithoutSave()
    {
        Timers.Cancel(RestartTimer);
        var latest = _state.LastCheckpoint?.Name;
        _phase = SupervisorPhase.Stopping;
        Done(JobOutcome.Stopped, $"stopped before training resumed; no checkpoint saved ({(latest is null ? "none yet" : latest + " is the newest")}), rerun the same command to continue", latest);
    }
}
