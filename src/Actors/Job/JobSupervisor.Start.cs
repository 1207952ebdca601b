using Akka.Actor;
using Akka.Persistence;
using Orchestrator.Actors.Job.Checkpoints;
using Orchestrator.Actors.Job.Steps;
using Orchestrator.Actors.Protocol;
using Orchestrator.Trainer.Checkpointing;
using Orchestrator.Trainer.Distributed;
using Orchestrator.Trainer.Training;

namespace Orchestrator.Actors.Job;

// Idle, WaitingForRanks and Starting: from the request to run to every rank ready at the start checkpoint.
public sealed partial class JobSupervisor
{
    private bool _announced;
    private string? _startedFrom;
    private IReadOnlyList<string> _skipped = [];

    private void Idle()
    {
        Command<RunJob>(_ =>
        {
            _requester = Sender;
            Submit();
        });
        Command<StopJob>(_ => _stopRequested = true);
        PlacementNews(afterSlotsChanged: () => { });
        Command<GetJobStatus>(_ => Sender.Tell(LiveStatus()));
        Command<SaveSnapshotSuccess>(_ => { });
        Command<SaveSnapshotFailure>(_ => { });
    }

    private void Submit()
    {
        _submittedAt = _clock.Elapsed;
        if (_state.Spec is null)
        {
            StartFromDisk(); // records the submission only once the start is chosen: a refused one records nothing
        }
        else if (_state.Spec.Job != _requested.Job)
        {
            Finish(JobOutcome.Refused, $"work dir {_requested.WorkDir} holds job '{_state.Spec.Job}', not '{_requested.Job}'; use another work dir");
        }
        else if (JobIdentity.Problem(_state.Spec, _requested) is { } problem)
        {
            Finish(JobOutcome.Refused, problem);
        }
        else if (JobIdentity.CodeChanged(_state.Spec, _requested))
        {
            Note($"job code changed: {_state.Spec.JobAssembly?.Sha256 ?? "built in"} -> {_requested.JobAssembly!.Sha256}, resuming from {_requested.ResumePath}");
            Record(new JobCodeChanged(_requested.JobAssembly!, _requested.ResumePath!, Now), Submit);
        }
        else if (_state.Spec.Steps != _requested.Steps || _state.Spec.Epochs != _requested.Epochs)
        {
            Record(new JobExtended(_requested.Steps, _requested.Epochs, Now), StartFromDisk);
        }
        else
        {
            StartFromDisk();
        }
    }

    /// <summary>Finds and verifies the start checkpoint off this thread; a stop meanwhile ends the job at once.</summary>
    private void StartFromDisk() => Discover(
        () => StartOnDisk.Find(_store, _candidates, _requested.ResumePath, _requested.FreshStart),
        ChooseStartAndStartRanks,
        onStop: () => RecordSubmissionThen(StopWithoutSave));

    private void ChooseStartAndStartRanks(StartOnDisk found)
    {
        if (found.RemovedSaves > 0)
        {
            Note($"removed {found.RemovedSaves} unfinished save folder(s) left by an interrupted run");
        }
        if (found.Refusal is not null)
        {
            Finish(JobOutcome.Refused, found.Refusal);
            return;
        }
        string? resumeFrom;
        LoadedCheckpoint? committedBeforeTheEnd = null;
        if (found.Named is { } named)
        {
            if (JobIdentity.CheckpointProblem(named, _requested) is { } problem)
            {
                Finish(JobOutcome.Refused, problem); // before anything is recorded, so the right command still runs
                return;
            }
            resumeFrom = named.Path;
        }
        else if (_requested.FreshStart && found.HasCheckpoints)
        {
            Finish(JobOutcome.Refused, $"work dir {_requested.WorkDir} already has checkpoints; use --resume auto to continue, or --delete-existing to start over");
            return;
        }
        else
        {
            var latest = found.Latest;
            foreach (var line in found.Skipped)
            {
                Note($"skipping invalid checkpoint: {line}");
            }
            _skipped = found.Skipped;
            resumeFrom = latest?.Path;
            if (latest is not null && JobIdentity.CheckpointProblem(latest, _requested) is { } problem)
            {
                Finish(JobOutcome.Refused, problem); // before anything is recorded, so the right command still runs
                return;
            }
            if (latest is not null && (_state.LastCheckpoint?.Step ?? -1) < latest.Info.Iteration)
            {
                committedBeforeTheEnd = latest;
            }
        }
        if (resumeFrom is not null && _requested.LoadFrom is not null)
        {
            Note($"--load-from ignored: resuming from {Path.GetFileName(resumeFrom)} in the work dir");
        }
        _startedFrom = resumeFrom;
        var start = new StartRank(0, resumeFrom, resumeFrom is null ? _requested.LoadFrom : null, _requested.SkipOptimizerState, _requested.SkipSchedulerState);
        _generation = _state.Generation + 1;
        RecordSubmissionThen(() =>
        {
            if (committedBeforeTheEnd is not null)
            {
                RecordCommittedBeforeTheProcessEnded(committedBeforeTheEnd);
            }
            StartAll(start);
        });
    }

    // A new journal record starts with its submission, so what the start found on disk is recorded after it.
    private void RecordSubmissionThen(Action then)
    {
        if (_state.Spec is null)
        {
            Record(new JobSubmitted(_requested, Now), then);
        }
        else
        {
            then();
        }
    }

    /// <summary>
    /// The last process ended between a checkpoint's commit on disk and its journal record. The resume starts
    /// from it, so the history names it too; its loss was only in the dead process.
    /// </summary>
    private void RecordCommittedBeforeTheProcessEnded(LoadedCheckpoint checkpoint)
    {
        Note($"{checkpoint.Name} was committed but not yet in the journal when the last run ended; recorded now");
        Record(new CheckpointCommitted(checkpoint.Info.Iteration, checkpoint.Name, checkpoint.Path, checkpoint.Info.WeightsSha256, double.NaN, checkpoint.Info.Reason, checkpoint.Info.CreatedUtc), () => { });
    }

    private void WaitingForRanks(StartRank start)
    {
        PlacementNews(afterSlotsChanged: () => StartAll(start));
        Common();
    }

    // ---- Starting: ranks build their replicas and restore ---------------------------------------------

    private void StartRanks(IReadOnlyList<int> create, StartRank start, string? reloadOthersFrom)
    {
        foreach (var rank in create)
        {
            var slot = _placedOn[rank];
            var spec = new RankSpec(_requested.Job, _requested.JobOptions with { Device = slot.Device }, rank, Ranks, _requested.Threads, _requested.CheckpointDirectory, _requested.NameTemplate, _requested.Keep)
            {
                ModelLoad = _requested.ModelLoad,
                JobAssembly = _requested.JobAssembly,
                JobArgs = _requested.JobArgs,
            };
            _ranks.Start(rank, spec, $"rank-{rank}-g{_generation}", _placement.DeployFor(slot), GradientLinks, start with { Generation = _generation });
        }
        foreach (var rank in Enumerable.Range(0, Ranks).Except(create))
        {
            _ranks.Tell(rank, new ReloadCheckpoint(_generation, reloadOthersFrom!));
        }
        _digests = new ReplicaDigests(Ranks);
        BeginRound(StepBarrier.Of(Ranks), TimeSpan.FromTicks(_requested.StepTimeout.Ticks * 5), "start");
        Enter(SupervisorPhase.Starting, Starting);
    }

    private void Starting()
    {
        Command<RankReady>(ready => ready.Generation == _generation, ready =>
        {
            // Every replica restores the same checkpoint; rank 0 speaks for them.
            foreach (var note in ready.Rank == 0 ? ready.Notes : [])
            {
                Note(note);
            }
            _digests.Record(ready.Rank, ready.WeightsSha256);
            _ranks.Ready(ready.Rank, ready.RingEndpoint);
            _step = ready.Step;
            _total = _requested.Steps ?? checked(_requested.Epochs!.Value * ready.BatchesPerEpoch);
            if (!Arrived(ready.Rank))
            {
                return;
            }
            if (_digests.DivergedRank() is { } diverged)
            {
                Fail(diverged, $"replica of rank {diverged} does not match rank 0 after start");
                return;
            }
            if (!_announced)
            {
                _announced = true;
                _progress.Announce(_requested.WorkDir, new RunStart(_requested.Job, _step, _total, _startedFrom, _skipped),
                    new StartupTimes(_journalRecovered, _clock.Elapsed - _submittedAt));
                if (_startedFrom is null && _requested.LoadFrom is not null)
                {
                    Note($"loaded weights from {Path.GetFileName(_requested.LoadFrom)} (optimizer, schedule and counters start fresh)");
                }
            }
            if (_step >= _total)
            {
                // Also reached when the process died between the final commit and recording completion.
                _ranks.StopAll();
                void AlreadyComplete() => Finish(JobOutcome.AlreadyComplete, $"already complete at step {_step}: nothing to do", _digests.OfRankZero);
                if (_state.Status == JobStatus.Completed)
                {
                    AlreadyComplete();
                }
                else
                {
                    Record(new JobCompleted(_step, _digests.OfRankZero ?? "", Now), AlreadyComplete);
                }
                return;
            }
            var nodes = _placement.IsCluster ? _placedOn.Select(s => s.Node!).ToArray() : null;
            Record(new RanksStarted(_generation, Ranks, _startedFrom is null ? null : Path.GetFileName(_startedFrom), _step, Now, nodes), () =>
            {
                ReactToPlacement();
                _progress.RanksStarted(Ranks, _clock.Elapsed);
                if (_ranks.FormRing(_generation, _requested.StepTimeout, _requested.GradientWire))
                {
                    Note($"gradients are averaged among the {Ranks} ranks around a ring, not through this node");
                }
                BeginStep();
            });
        });
        Common();
    }
}
