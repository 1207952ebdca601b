using Orchestrator.Actors.Gradients;
using Orchestrator.Actors.Job.Faults;
using Orchestrator.Actors.Job.Steps;
using Orchestrator.Actors.Protocol;
using Orchestrator.Trainer.Distributed;
using Orchestrator.Trainer.Runtime;

namespace Orchestrator.Actors.Job;

// Stepping: gradients from every rank, their average back to every rank (averaged by GradientReduction, in
// Actors/Gradients), and what each step's end decides (Steps/StepPlan).
public sealed partial class JobSupervisor
{
    private GradientReduction? _reduction;
    // From the first gradient chunk of a step to its last average sent: the step's gradient synchronisation.
    private TimeSpan _syncStartedAt;
    private int _averagedChunks;
    // The ranks' mean loss, taken when a step's last average leaves: its reduction may by then serve the next step.
    private double _syncedLoss = double.NaN;
    // A step whose successor started on its last average (see StartNextOnAverage), and the ranks yet to apply it.
    private long _applyingStep = -1;
    private StepBarrier _applying = StepBarrier.None;
    // The step last started, and whether a rank has ended it (see StartNextOnFirstEnd).
    private long _stepInFlight = -1;
    private bool _firstEndSeen;
    // A rank's job asked for a checkpoint (TrainingJob.RequestSave): taken at the next step end decided here.
    private bool _saveRequested;

    private StepSituation Situation => new(_total, _requested.Schedule, _stopRequested, _resizePending, _saveRequested, _sinceSave.Elapsed);

    private void BeginStep()
    {
        if (StepPlan.BeforeStep(_stopRequested, _resizePending && HoldsDrainingNode) is { } reason)
        {
            BeginCheckpoint(reason);
            return;
        }
        var next = _step + 1;
        var due = _faults.DueAt(next, _state.FiredFaults);
        if (due.Count == 0)
        {
            SendCompute(next, []);
            return;
        }
        PersistAll(due.Select(f => new FaultFired(f.Id, Now)), fired =>
        {
            _state = _state.Apply(fired);
            if (fired.FaultId != due[^1].Id)
            {
                return;
            }
            if (FaultInjection.KillsProcess(due))
            {
                KillProcessForFault(next);
            }
            SendCompute(next, due);
        });
    }

    private void SendCompute(long step, IReadOnlyList<FaultSpec> faults)
    {
        _applyingStep = -1;
        _firstEndSeen = false;
        _stepInFlight = step;
        if (_reduction?.Generation == _generation && _reduction.Ranks == Ranks)
        {
            _reduction.StartStep();
        }
        else
        {
            // A new generation gets a new averaged array: ranks of the old one may still be reading theirs.
            _reduction = new GradientReduction(Ranks, _generation, _requested.GradientWire);
        }
        _averagedChunks = 0;
        var through = Ranks == 1 && faults.Count == 0
            ? StepPlan.RunAheadTo(step, _total, _requested.Schedule, _progress.StepDuration, _faults.NextAfter(step, _state.FiredFaults))
            : step;
        for (var rank = 0; rank < Ranks; rank++)
        {
            _ranks.SendCompute(rank, new ComputeGradients(_generation, step, FaultInjection.ForRank(faults, rank), Alone: Ranks == 1, Through: through));
        }
        // In a ring the supervisor sees no gradients, so it cannot tell a hung rank from its waiting peers: the
        // rank behind a silent one names it (RingMember), and this timer is left for when no rank can. Ranks
        // sharing this process say who published (SharedAllReduce): this timer names the hung one.
        BeginRound(StepBarrier.ForStep(Ranks), _ranks.AroundRing ? 3 * _requested.StepTimeout : _requested.StepTimeout, $"step {step}");
        if (_phase != SupervisorPhase.Stepping)
        {
            // Steps follow steps: the handlers stay in place instead of being built again for every step.
            Enter(SupervisorPhase.Stepping, Stepping);
        }
    }

    private void Stepping()
    {
        Command<GradientChunk>(chunk => chunk.Generation == _generation, chunk =>
        {
            if (!_barrier.AnyGradients)
            {
                _syncStartedAt = _clock.Elapsed;
            }
            _barrier.GradientsFrom(chunk.Rank);
            if (_reduction!.Add(chunk) is { } averaged)
            {
                var last = ++_averagedChunks == averaged.Count;
                if (last)
                {
                    _progress.GradientsSynced(_clock.Elapsed - _syncStartedAt);
                    _syncedLoss = _reduction.MeanLoss;
                }
                _ranks.SendAveraged(averaged);
                if (last)
                {
                    StartNextOnAverage(averaged.Step);
                }
            }
        });
        Command<StepsApplied>(batch => batch.Generation == _generation, batch =>
        {
            // Steps inside a one-rank job's run-ahead: reported, and the rank already works on the next.
            foreach (var applied in batch.Steps)
            {
                _saveRequested |= applied.SaveRequested;
                Stepped(applied);
            }
            Timers.StartSingleTimer(PhaseTimer, new PhaseTimedOut(_generation, $"step {_step + 1}", _requested.StepTimeout), _requested.StepTimeout);
        });
        Command<StepApplied>(applied => applied.Generation == _generation && applied.Step == _applyingStep, applied =>
        {
            // The next step already runs: this one is only recorded, once every rank has applied it. A save
            // its job asked for is taken at the end of the step that runs.
            _saveRequested |= applied.SaveRequested;
            if (_applying.Arrive(applied.Rank))
            {
                _applyingStep = -1;
                Stepped(applied);
            }
        });
        Command<StepApplied>(applied => applied.Generation == _generation, applied =>
        {
            _saveRequested |= applied.SaveRequested; // any rank's job may ask; the last rank to answer decides
            if (StartNextOnFirstEnd(applied))
            {
                return;
            }
            if (!Arrived(applied.Rank))
            {
                return;
            }
            Stepped(applied);
            switch (StepPlan.AtStepEnd(_step, applied.EpochEnded, applied.Epoch, Situation))
            {
                case StepEnd.Checkpoint checkpoint:
                    BeginCheckpoint(checkpoint.Reason);
                    break;
                default:
                    BeginStep();
                    break;
            }
        });
        Common();
    }

    /// <summary>
    /// Starts step <paramref name="finished"/> + 1 as the last average of <paramref name="finished"/> leaves,
    /// when nothing can be decided at its end: each rank then goes on from applying that average to its next
    /// gradients without the round trip of its step end and the next start, which on two processes took
    /// about a seventh of a 1 MB step. The next step's averages cannot overwrite this one's before every rank
    /// has read them: each is written only once every rank has sent that chunk of the next step, and a rank
    /// sends it only after applying.
    /// </summary>
    private void StartNextOnAverage(long finished)
    {
        if (StepPlan.DecidedAtEnd(finished, Situation, _faults.DueAt(finished + 1, _state.FiredFaults).Count > 0))
        {
            return;
        }
        SendCompute(finished + 1, []);
        // Set after the start went out, which forgets any earlier overlap: no answer is read before this returns.
        _applyingStep = finished;
        _applying = StepBarrier.Of(Ranks);
    }

    /// <summary>
    /// Where ranks average among themselves, the first rank to end a step ends the averaging of every rank
    /// (its average holds all their gradients): the next step starts then, as it does on the hub's last
    /// average, and the other ranks' ends are only recorded. Not while an earlier step's ends are still due,
    /// which could then be taken for this one's.
    /// </summary>
    private bool StartNextOnFirstEnd(StepApplied applied)
    {
        if (!_ranks.InRing || _firstEndSeen)
        {
            return false;
        }
        _firstEndSeen = true; // one decision per step: a later end must not start the step after it again
        if (_applyingStep >= 0)
        {
            return false;
        }
        StartNextOnAverage(applied.Step);
        if (_applyingStep != applied.Step)
        {
            return false; // decided at this step's end: every rank's end is awaited as usual
        }
        _applying.Arrive(applied.Rank);
        return true;
    }

    /// <summary>Records and reports a step every rank has applied.</summary>
    private void Stepped(StepApplied applied)
    {
        _step = applied.Step;
        if (_ranks.InRing && applied.RingSeconds > 0)
        {
            _progress.GradientsSynced(TimeSpan.FromSeconds(applied.RingSeconds));
        }
        _progress.Stepped(applied, _total, Ranks == 1 || _ranks.InRing ? applied.Loss : _syncedLoss, _clock.Elapsed);
        KillPoints.ReachStep(_step);
    }
}
