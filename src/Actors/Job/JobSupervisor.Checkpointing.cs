using Orchestrator.Actors.Job.Checkpoints;
using Orchestrator.Actors.Job.Ranks;
using Orchestrator.Actors.Job.Steps;
using Orchestrator.Actors.Protocol;

namespace Orchestrator.Actors.Job;

// Checkpointing: barrier, buffer sync, rank 0 saves (Checkpoints/CheckpointRound); and where a written
// checkpoint is committed to the journal (Committed).
public sealed partial class JobSupervisor
{
    /// <summary>A null reason syncs buffers and checks replicas but saves nothing (the end of a run without --save-last).</summary>
    private void BeginCheckpoint(SaveReason? reason)
    {
        _saveRequested = false;
        _progress.CheckpointStarted(_step);
        var round = new CheckpointRound(Ranks, _step, reason);
        _digests = round.Digests;
        _ranks.TellAll(new ExportBuffers(_generation, _step));
        BeginRound(StepBarrier.Of(Ranks), _requested.StepTimeout, $"checkpoint at step {_step}");
        Enter(SupervisorPhase.Checkpointing, () => Checkpointing(round));
    }

    private void Checkpointing(CheckpointRound round)
    {
        Command<BuffersExported>(exported => exported.Generation == _generation, exported =>
        {
            round.BuffersFrom(exported.Rank, exported.Values);
            if (!Arrived(exported.Rank))
            {
                return;
            }
            var averaged = round.AveragedBuffers();
            _barrier = StepBarrier.Of(Ranks); // a round of its own, with no timer: the export's ended with it
            _ranks.TellAll(new ImportBuffers(_generation, round.Step, averaged));
        });
        Command<BuffersImported>(imported => imported.Generation == _generation, imported =>
        {
            round.Digests.Record(imported.Rank, imported.WeightsSha256);
            if (!Arrived(imported.Rank))
            {
                return;
            }
            if (round.Digests.DivergedRank() is { } diverged)
            {
                Fail(diverged, $"replica of rank {diverged} diverged from rank 0 at step {_step} ({round.Digests.Compare(diverged)})");
                return;
            }
            if (round.Reason is not { } reason)
            {
                Done(JobOutcome.Completed, $"completed {_step} steps", checkpoint: null);
                return;
            }
            _ranks.Tell(0, round.SaveOrder(_generation, reason));
        });
        Command<CheckpointCaptured>(captured => captured.Generation == _generation, captured =>
        {
            Timers.Cancel(PhaseTimer);
            _lastCapturedStep = captured.Step;
            var reason = round.Reason!.Value;
            if (reason.TrainingGoesOn())
            {
                _sinceSave.Restart();
                BeginStep();
            }
            else if (_lastWrittenStep >= captured.Step)
            {
                FinishAfterFinalWrite(reason, captured.Step, Path.GetFileName(_store.LatestPointer));
            }
            else
            {
                Enter(SupervisorPhase.AwaitingFinalWrite, () => AwaitingFinalWrite(reason, captured.Step));
            }
        });
        Common();
    }

    // The commit report of a blocking save can arrive before or after the capture answer; both paths end here.
    private void AwaitingFinalWrite(SaveReason reason, long step)
    {
        Common(onWritten: written =>
        {
            if (written.Step == step)
            {
                FinishAfterFinalWrite(reason, step, written.Name);
            }
        });
    }

    private void FinishAfterFinalWrite(SaveReason reason, long step, string? checkpoint)
    {
        switch (reason)
        {
            case SaveReason.Resize:
                Resize(step, checkpoint!);
                break;
            case SaveReason.Interrupt:
                Done(JobOutcome.Stopped, $"stopped at step {step}; checkpoint saved, rerun the same command to continue", checkpoint);
                break;
            default:
                Done(JobOutcome.Completed, $"completed {step} steps", checkpoint);
                break;
        }
    }

    private void Resize(long step, string checkpoint)
    {
        _resizePending = false;
        var world = _sizing.SizeFor(UsableSlots().Count) ?? _world;
        var reason = HoldsDrainingNode ? ResizeReason.NodeDrained : ResizeReason.NodesJoined;
        Record(new WorldResized(_world, world, checkpoint, step, reason.ToText(), Now), () =>
        {
            Note($"resizing from {_world} to {world} rank(s) at {checkpoint} ({reason.ToText()})");
            _ranks.StopAll();
            _generation++;
            _startedFrom = Path.Combine(_store.Directory, checkpoint);
            StartAll(new StartRank(0, _startedFrom, null, false, false));
        });
    }

    /// <summary>
    /// Rank 0 wrote and committed a checkpoint on disk (CheckpointStore.Commit): the journal records it, with
    /// the loss at its step. A save that found its checkpoint already there is reported but not recorded again.
    /// </summary>
    private void Committed(CheckpointWritten written, Action<CheckpointWritten>? onWritten)
    {
        _lastWrittenStep = Math.Max(_lastWrittenStep, written.Step);
        var loss = _progress.Saved(written);
        if (written.AlreadyPresent)
        {
            onWritten?.Invoke(written);
            return;
        }
        Record(new CheckpointCommitted(written.Step, written.Name, written.Path, written.WeightsSha256, loss, written.Reason, Now), () => onWritten?.Invoke(written));
    }
}
