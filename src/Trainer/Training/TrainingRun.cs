using System.Diagnostics;
using Orchestrator.Trainer.Checkpointing;
using Orchestrator.Trainer.Interop;
using Orchestrator.Trainer.Jobs;
using Orchestrator.Trainer.Jobs.Loading;
using Orchestrator.Trainer.Runtime;
using Orchestrator.Trainer.Tensors;
using TorchSharp;

namespace Orchestrator.Trainer.Training;

/// <summary>
/// Runs one job to its end on the calling thread: decides where to start (fresh, resume, or weights only),
/// takes the steps, saves on the schedule with the async writer, saves the last consistent state when a step
/// fails or a stop is requested, and always saves the final state.
/// </summary>
public sealed class TrainingRun
{
    private readonly TrainingJob _job;
    private readonly TrainingState _state;
    private readonly RunOptions _options;
    private readonly ITrainingObserver _observer;
    private readonly CheckpointStore _store;
    private readonly List<SaveReport> _saves = [];
    private long _lastSavedIteration = -1;
    private string? _resumedFrom;

    private TrainingRun(TrainingJob job, RunOptions options, ITrainingObserver observer)
    {
        _job = job;
        _state = new TrainingState(job, options.Seed, options.ModelLoad, rank: 0);
        _options = options;
        _observer = observer;
        _store = new CheckpointStore(options.CheckpointDirectory, new CheckpointNaming(options.NameTemplate));
    }

    /// <summary>
    /// Seeds the runtime, builds the job with <paramref name="createJob"/> (so its random initialisation is
    /// reproducible), and runs it. <paramref name="stop"/> asks for a checkpoint and a clean exit.
    /// </summary>
    public static RunResult Execute(Func<TrainingJob> createJob, RunOptions options, ITrainingObserver? observer = null, CancellationToken stop = default)
    {
        RunOptionsValidator.Validate(options);
        DeterministicRuntime.Configure(options.Seed, options.Threads);
        using var job = createJob();
        return new TrainingRun(job, options, observer ?? SilentObserver.Instance).Run(stop);
    }

    /// <summary>
    /// Runs a job definition in this process as rank 0 of 1, the way <c>orchestrator train</c> runs it with
    /// one rank: the same definitions serve both. An argument in <paramref name="args"/> that the job does not
    /// read is refused before any step.
    /// </summary>
    public static RunResult Execute(IJobDefinition definition, RunOptions options, JobArgs? args = null, torch.Device? device = null, ITrainingObserver? observer = null, CancellationToken stop = default)
    {
        var context = new JobContext
        {
            Rank = 0,
            WorldSize = 1,
            Device = device ?? torch.CPU,
            Seed = options.Seed,
            WorkDir = Path.GetFullPath(options.WorkDir),
            Args = args ?? JobArgs.Empty,
        };
        return Execute(() =>
        {
            var job = JobFactory.Create(definition, context);
            try
            {
                context.Args.RefuseUnread(definition.Name);
            }
            catch (JobArgumentException)
            {
                job.Dispose();
                throw;
            }
            return job;
        }, options, observer, stop);
    }

    private RunResult Run(CancellationToken stop)
    {
        var total = _options.Steps ?? checked(_options.Epochs!.Value * _state.StepsPerEpoch);
        var skipped = PrepareStart();
        _observer.Started(new RunStart(_job.Name, _state.Counters.Iteration, total, _resumedFrom, skipped));
        if (_state.Counters.Iteration >= total)
        {
            return Result(RunOutcome.AlreadyComplete);
        }
        try
        {
            using var writer = new AsyncCheckpointWriter(_store, c => _store.ApplyRetention(_options.Keep, Protected(c)));
            var outcome = Train(writer, total, stop);
            Save(writer, outcome == RunOutcome.Interrupted ? "interrupt" : "final", blocking: true, force: outcome == RunOutcome.Interrupted || _options.Schedule.SaveLast);
            Drain(writer);
            return Result(outcome);
        }
        finally
        {
            _state.WaitForCapture(); // the job is disposed next; no snapshot may still be copying from it
        }
    }

    private RunOutcome Train(AsyncCheckpointWriter writer, long total, CancellationToken stop)
    {
        var meter = new RateMeter();
        var lastSave = Stopwatch.StartNew();
        while (_state.Counters.Iteration < total)
        {
            if (stop.IsCancellationRequested)
            {
                return RunOutcome.Interrupted;
            }
            var mutating = false;
            try
            {
                var rate = _state.LearningRate;
                var (loss, samples) = _state.ComputeGradients();
                mutating = true;
                var epochEnded = _state.ApplyStep(samples);
                mutating = false;
                var counters = _state.Counters;
                KillPoints.ReachStep(counters.Iteration);
                _observer.Stepped(new StepReport(counters.Iteration, total, counters.Epoch, loss, rate, meter.Tick(), samples));
                Drain(writer);
                if (counters.Iteration < total && _options.Schedule.IsDue(counters.Iteration, epochEnded, counters.Epoch, lastSave.Elapsed))
                {
                    Save(writer, "schedule", blocking: !_options.AsyncSave, force: true);
                    lastSave.Restart();
                }
                if (_job.TakeSaveRequest())
                {
                    Save(writer, "requested", blocking: !_options.AsyncSave, force: true);
                }
            }
            catch (Exception e) when (e is not TrainingFailedException)
            {
                throw Fail(writer, e, mutating);
            }
        }
        return RunOutcome.Completed;
    }

    private TrainingFailedException Fail(AsyncCheckpointWriter writer, Exception error, bool mutating)
    {
        var failedStep = _state.Counters.Iteration + 1;
        if (mutating)
        {
            return new TrainingFailedException($"training failed inside the optimizer at step {failedStep}: {error.Message}; the state is not consistent, so no checkpoint was saved (latest kept: {_store.LatestPointer ?? "none"})", error);
        }
        try
        {
            Save(writer, "failure", blocking: true, force: _state.Counters.Iteration > _lastSavedIteration);
            writer.WaitForIdle(); // a scheduled save may still be in flight; the message names what is on disk
            Drain(writer);
            return new TrainingFailedException($"training failed at step {failedStep}: {error.Message}; state after step {_state.Counters.Iteration} is saved in {_store.LatestPointer ?? "none"}", error);
        }
        catch (Exception saveError)
        {
            return new TrainingFailedException($"training failed at step {failedStep}: {error.Message}; the failure save also failed: {saveError.Message}", error);
        }
    }

    private void Save(AsyncCheckpointWriter writer, string reason, bool blocking, bool force)
    {
        if (!force || _state.Counters.Iteration == _lastSavedIteration)
        {
            return;
        }
        writer.Save(inPlace => _state.Capture(reason, _options.Threads, inPlace), blocking);
        _lastSavedIteration = _state.Counters.Iteration;
    }

    private void Drain(AsyncCheckpointWriter writer)
    {
        while (writer.TryTakeCompleted(out var report))
        {
            _saves.Add(report);
            _observer.Saved(report);
        }
    }

    private HashSet<string> Protected(CommitResult committed)
    {
        var names = new HashSet<string>(StringComparer.Ordinal) { committed.Name };
        if (_resumedFrom is not null)
        {
            names.Add(Path.GetFileName(_resumedFrom));
        }
        return names;
    }

    private RunResult Result(RunOutcome outcome) =>
        new(_job.Name, outcome, _state.Counters.Iteration, _state.Counters.Epoch, WeightsDigest.Of(_job.Model), _resumedFrom, _saves);

    /// <summary>Restores whatever the options ask for; returns one line per checkpoint that was skipped as invalid.</summary>
    private IReadOnlyList<string> PrepareStart()
    {
        var removed = _store.RemoveAbandonedSaves();
        if (removed > 0)
        {
            _observer.Note($"removed {removed} unfinished save folder(s) left by an interrupted run");
        }
        switch (_options.Resume)
        {
            case ResumeMode.Path:
                ResumeFrom(_store.Load(_options.ResumePath!));
                return [];
            case ResumeMode.Auto:
                return ResumeFromLatestValid();
            default:
                if (_store.List().Count > 0)
                {
                    if (!_options.DeleteExisting)
                    {
                        throw new ArgumentException($"work dir {_options.WorkDir} already has checkpoints; use --resume auto to continue, or --delete-existing to start over");
                    }
                    _observer.Note($"deleted {_store.DeleteAll()} existing checkpoint(s) (--delete-existing)");
                }
                LoadWeightsOnlyIfAsked();
                return [];
        }
    }

    /// <summary>
    /// Resumes from the newest checkpoint that verifies and restores; one that verifies but is refused when
    /// restored (an optimizer blob padded and resealed) is skipped like a corrupt one, in one line, and the
    /// next older one is tried. A refused restore leaves the state as it was, so a fresh start can follow.
    /// </summary>
    private IReadOnlyList<string> ResumeFromLatestValid()
    {
        var refused = new HashSet<string>(StringComparer.Ordinal);
        var skippedAll = new List<string>();
        string? refusal = null;
        while (true)
        {
            var (latest, skipped) = _store.LoadLatestValid(refused);
            foreach (var line in skipped)
            {
                _observer.Note($"skipping invalid checkpoint: {line}");
            }
            skippedAll.AddRange(skipped);
            if (latest is null)
            {
                if (refusal is not null)
                {
                    _observer.Note($"{refusal}; no older valid checkpoint, starting fresh");
                }
                LoadWeightsOnlyIfAsked();
                return skippedAll;
            }
            if (refusal is not null)
            {
                _observer.Note($"{refusal}; resuming from {latest.Name} instead");
            }
            try
            {
                ResumeFrom(latest);
                if (_options.LoadFrom is not null)
                {
                    _observer.Note($"--load-from ignored: resuming from {latest.Name} in the work dir");
                }
                return skippedAll;
            }
            catch (CorruptCheckpointException e)
            {
                refusal = e.Message;
                refused.Add(latest.Name);
                skippedAll.Add(e.Message);
            }
        }
    }

    private void ResumeFrom(LoadedCheckpoint checkpoint)
    {
        foreach (var line in _state.Resume(checkpoint, _options.SkipOptimizerState, _options.SkipSchedulerState).Describe(checkpoint.Name))
        {
            _observer.Note(line);
        }
        if (checkpoint.Info.TorchThreads != _options.Threads)
        {
            _observer.Note($"checkpoint was trained with {checkpoint.Info.TorchThreads} threads, resuming with {_options.Threads}: results may differ in the last bits");
        }
        _resumedFrom = checkpoint.Path;
        _lastSavedIteration = _state.Counters.Iteration;
    }

    private void LoadWeightsOnlyIfAsked()
    {
        if (_options.LoadFrom is null)
        {
            return;
        }
        // Only the model is asked for: the rest of a checkpoint is left out on purpose, so only unused state is reported.
        var (notes, name) = WeightsSource.Load(_options.LoadFrom, _store, _state.LoadWeights);
        foreach (var note in notes)
        {
            _observer.Note(note);
        }
        _observer.Note($"loaded weights from {name} (optimizer, schedule and counters start fresh)");
    }

    private sealed class RateMeter
    {
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private readonly Queue<TimeSpan> _recent = new();

        public double Tick()
        {
            var now = _clock.Elapsed;
            _recent.Enqueue(now);
            if (_recent.Count > 50)
            {
                _recent.Dequeue();
            }
            var span = (now - _recent.Peek()).TotalSeconds;
            return span > 0 ? (_recent.Count - 1) / span : 0;
        }
    }
}
