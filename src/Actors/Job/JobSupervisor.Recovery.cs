using System.Runtime.ExceptionServices;
using Akka.Actor;
using Orchestrator.Actors.Job.Checkpoints;
using Orchestrator.Actors.Job.Restart;
using Orchestrator.Actors.Protocol;
using Orchestrator.Trainer.Checkpointing;
using Orchestrator.Trainer.Runtime;

namespace Orchestrator.Actors.Job;

// Failures and restarts: what a rank's failure means, the wait for a checkpoint still being written, and the
// restart Restart/RestartPlanner decides. Also the checkpoint discovery every (re)start runs off this thread.
public sealed partial class JobSupervisor
{
    private readonly DiscoveryRunner _runDiscovery;
    private int _discoveryRound;
    private CancellationTokenSource? _discovery;

    private void RankWorkFailed(RankWorkFailed failed)
    {
        if (failed.DiskFull)
        {
            // Every restart would fail the same way: the job ends, its committed checkpoints as they are.
            _ranks.StopAll();
            Discover(() => _candidates.Latest().Checkpoint, latest => Finish(JobOutcome.Failed, DiskFull.Message(_requested.WorkDir, latest?.Name)), onStop: null);
        }
        else if (failed.RefusedCheckpoint is { } path && _candidates.ChoseItself(path))
        {
            StartFromOlder(path, failed.Reason);
        }
        else if (failed.Permanent)
        {
            _ranks.StopAll();
            Finish(JobOutcome.Refused, failed.Reason);
        }
        else
        {
            Fail(failed.Rank, failed.Reason);
        }
    }

    private void Fail(int rank, string reason)
    {
        Timers.Cancel(PhaseTimer);
        var failedGeneration = _generation;
        _generation++; // answers from the failed incarnation are ignored from here on
        _progress.RankFailed(rank);
        Record(new RankFailed(failedGeneration, rank, _step + 1, reason, Now), () =>
        {
            var failure = new RankFailure(rank, reason, _step);
            if (_lastCapturedStep <= _lastWrittenStep)
            {
                DecideRestart(failure);
                return;
            }
            // A checkpoint is still being written: restart from it once it lands rather than from the one before.
            Timers.StartSingleTimer(PhaseTimer, new InFlightWriteWaitOver(_generation), _requested.StepTimeout);
            Enter(SupervisorPhase.AwaitingInFlightWrite, () => AwaitingInFlightWrite(failure));
        });
    }

    private void AwaitingInFlightWrite(RankFailure failure)
    {
        Command<InFlightWriteWaitOver>(over => over.Generation == _generation, _ => DecideRestart(failure));
        Common(onWritten: _ =>
        {
            if (_lastWrittenStep >= _lastCapturedStep)
            {
                Timers.Cancel(PhaseTimer);
                DecideRestart(failure);
            }
        });
    }

    private void DecideRestart(RankFailure failure) => Discover(
        () => _candidates.Latest().Checkpoint,
        latest => CarryOut(RestartPlanner.Plan(failure, latest is null ? null : new RestartPoint(latest.Name, latest.Path, latest.Info.Iteration),
            Ranks, SlotKept(failure.Rank), _requested.Restarts, _state.Restarts, Now)),
        onStop: StopWithoutSave);

    private void CarryOut(RestartDecision decision)
    {
        if (decision is GiveUp giveUp)
        {
            Record(new JobFailed(giveUp.Message, giveUp.LastGoodCheckpoint, Now), () =>
            {
                _ranks.StopAll();
                Finish(JobOutcome.Failed, giveUp.Message);
            });
            return;
        }
        var plan = (RestartPlan)decision;
        var scheduled = new RestartScheduled(_generation, plan.Mode.ToText(), plan.FailedRank, plan.From?.Name, plan.FromStep, plan.StepsRedone, plan.Delay.TotalMilliseconds, Now);
        Record(scheduled, () =>
        {
            Note(plan.Note);
            _progress.Restarted(plan.FromStep, _state.Restarts.Length);
            _ranks.Stop(plan.Recreate);
            Timers.StartSingleTimer(RestartTimer, new RestartNow(_generation, plan.Recreate, plan.From?.Path), plan.Delay);
            Enter(SupervisorPhase.Restarting, Restarting);
        });
    }

    private void Restarting()
    {
        Command<RestartNow>(now => now.Generation == _generation, now =>
        {
            _startedFrom = now.FromCheckpoint;
            var start = new StartRank(0, now.FromCheckpoint, null, false, false);
            if (now.Recreate.Length == Ranks)
            {
                StartAll(start); // the world may have shrunk or grown since the failure
            }
            else
            {
                StartRanks(now.Recreate, start, now.FromCheckpoint);
            }
        });
        Common();
    }

    /// <summary>A rank refused the checkpoint this supervisor chose: start every rank again from an older one.</summary>
    private void StartFromOlder(string refused, string reason)
    {
        _candidates.MarkRefused(refused);
        _ranks.StopAll();
        _generation++;
        Discover(() => _candidates.Latest(), found =>
        {
            foreach (var line in ResumeCandidates.RefusalLines(reason, found.Checkpoint, found.Skipped))
            {
                Note(line);
            }
            _startedFrom = found.Checkpoint?.Path;
            StartAll(new StartRank(0, _startedFrom, _startedFrom is null ? _requested.LoadFrom : null, _requested.SkipOptimizerState, _requested.SkipSchedulerState));
        }, onStop: StopWithoutSave);
    }

    /// <summary>
    /// Runs <paramref name="find"/> (listing and hashing checkpoints) on a pool thread and goes on with
    /// <paramref name="found"/> once its answer is back. Meanwhile messages wait in the stash, except a status
    /// question (answered), the cluster's news (passed on to the placement watch) and a stop, which
    /// <paramref name="onStop"/> acts on at once (null: only noted).
    /// </summary>
    private void Discover<T>(Func<T> find, Action<T> found, Action? onStop)
    {
        var round = ++_discoveryRound;
        _discovery?.Dispose();
        _discovery = new CancellationTokenSource();
        _runDiscovery(() => find(), _discovery.Token).PipeTo(Self, success: result => new Discovered(round, result), failure: e => new DiscoveryFailed(round, e));
        _phase = SupervisorPhase.Discovering;
        Become(() =>
        {
            Command<Discovered>(d => d.Round == round, d =>
            {
                Stash.UnstashAll();
                found((T)d.Result!);
            });
            Command<DiscoveryFailed>(f => f.Round == round, f =>
            {
                Stash.UnstashAll();
                ExceptionDispatchInfo.Throw(f.Cause); // an unexpected failure ends the job (PreRestart)
            });
            Command<StopJob>(_ =>
            {
                _stopRequested = true;
                if (onStop is not null)
                {
                    ++_discoveryRound; // its answer is dropped when it comes
                    _discovery.Cancel();
                    Stash.UnstashAll();
                    onStop();
                }
            });
            Command<GetJobStatus>(_ => Sender.Tell(LiveStatus()));
            PassOnClusterNews();
            DropStale();
            // Equal messages from one sender may be stashed here (records compare by value). Akka 1.5.75 refuses
            // only one delivery stashed twice (it compares envelope ids, not messages), so they do not end the
            // job (DiscoveryTests). Its persistent stash may hand equal ones back once (its unstash goes through
            // Distinct): nothing is lost, a repeat carries nothing the first does not.
            CommandAny(_ => Stash.Stash());
        });
    }

    private sealed record Discovered(int Round, object? Result);

    private sealed record DiscoveryFailed(int Round, Exception Cause);
}
