using Orchestrator.Trainer.Checkpointing;
using Orchestrator.Trainer.Data;
using Orchestrator.Trainer.Jobs;
using Orchestrator.Trainer.Jobs.Loading;
using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Training;

/// <summary>
/// One replica's training state: the job plus where it stands (data cursor, counters, schedule), the
/// checkpoint components that capture all of it, and the two halves of a step. The single-process loop
/// runs both halves back to back; a data-parallel rank averages gradients with its peers in between.
/// </summary>
public sealed class TrainingState
{
    private readonly CheckpointComponents _components = new();
    private readonly LearningRateScheduler _scheduler;
    private readonly TorchLearningRateScheduler? _torchScheduler;
    private readonly List<Tensor> _parameters;
    private readonly long _seed;
    private readonly int _rank;

    /// <param name="job">The replica to train.</param>
    /// <param name="shuffleSeed">The run's seed: the data shuffle's, and the base of the step generator's.</param>
    /// <param name="modelLoad">Key surgery and strictness for loading the model's weights.</param>
    /// <param name="rank">This replica's rank; seeds the step generator when the job asks for per-rank seeds.</param>
    public TrainingState(TrainingJob job, long shuffleSeed, ModelLoadOptions modelLoad, int rank = 0)
    {
        Validate(job);
        Job = job;
        _seed = shuffleSeed;
        _rank = rank;
        _parameters = job.Model.parameters().Select(p => (Tensor)p).ToList();
        _scheduler = new LearningRateScheduler(job.Optimizer, job.LearningRate);
        Cursor = DataCursor.Start(shuffleSeed);
        _components.Add(ModelCheckpointable.ComponentName, new ModelCheckpointable(job.Model, modelLoad));
        _components.Add(ComponentNames.Optimizer, new OptimizerCheckpointable(job.Optimizer, job.Device));
        if (job.Scheduler is { } factory)
        {
            // Built after the optimizer's state exists and before any restore; a restore rebuilds it.
            var torchScheduler = new TorchLearningRateScheduler(job.Optimizer, factory);
            _torchScheduler = torchScheduler;
            _components.Add(ComponentNames.Scheduler, new JsonCheckpointable<TorchLearningRateScheduler.State>(torchScheduler.Capture, torchScheduler.Restore));
        }
        else
        {
            _components.Add(ComponentNames.Scheduler, new JsonCheckpointable<LearningRateScheduler.State>(
                () => new(_scheduler.StepsTaken, _scheduler.Schedule.ToString()), s => _scheduler.StepsTaken = s.StepsTaken));
        }
        _components.Add(ComponentNames.Rng, new RngCheckpointable());
        _components.Add(ComponentNames.Data, new JsonCheckpointable<DataCursor>(() => Cursor, c => Cursor = c));
        _components.Add(ComponentNames.Counters, new JsonCheckpointable<TrainingCounters>(() => Counters, c => Counters = c));
        foreach (var (name, component) in job.ExtraCheckpointables)
        {
            _components.Add(name, component);
        }
    }

    public TrainingJob Job { get; }

    public DataCursor Cursor { get; private set; }

    public TrainingCounters Counters { get; private set; } = TrainingCounters.Zero;

    /// <summary>The learning rate the next step will use (of the first parameter group).</summary>
    public double LearningRate => _torchScheduler?.Current ?? _scheduler.Current;

    /// <summary>Optimizer steps per pass over the data: batches per epoch over the micro-batches per step.</summary>
    public long StepsPerEpoch => Math.Max(1, Job.Data.BatchesPerEpoch / Job.AccumulateSteps);

    /// <summary>The global gradient norm before the last step's clipping (NaN when the job does not clip).</summary>
    public double LastGradientNorm { get; private set; } = double.NaN;

    /// <summary>
    /// Forward and backward on the <see cref="TrainingJob.AccumulateSteps"/> batches from the cursor on; their
    /// average gradient is left on the parameters. Returns the mean loss and the samples read. Nothing that a
    /// checkpoint holds changes here: the cursor moves in <see cref="ApplyStep"/>.
    /// </summary>
    public (double Loss, long Samples) ComputeGradients(Func<Tensor, Tensor>? corruptLoss = null)
    {
        using var outer = NewDisposeScope();
        if (_torchScheduler is null)
        {
            _scheduler.Apply();
        }
        Job.Model.train();
        Job.Optimizer.zero_grad();
        var micro = Job.AccumulateSteps;
        using var share = (1.0 / micro).ToScalar(); // held: an inline Scalar may be freed mid-call (see Adam)
        var cursor = Cursor;
        var lossSum = 0.0;
        var samples = 0L;
        for (var index = 0; index < micro; index++)
        {
            using var scope = NewDisposeScope();
            Job.Random?.manual_seed(StepSeeds.For(_seed, Job.DiffRankSeed ? _rank : 0, Counters.Iteration, index));
            using var batch = Job.Data.Read(cursor);
            using var onDevice = new Batch(batch.Input.to(Job.Device), batch.Target.to(Job.Device));
            var loss = Job.Loss(onDevice);
            if (corruptLoss is not null)
            {
                loss = corruptLoss(loss);
            }
            var value = loss.item<float>();
            if (!float.IsFinite(value))
            {
                throw new NonFiniteLossException(Counters.Iteration + 1, value);
            }
            // One micro-batch alone keeps its loss as it is, so that jobs without accumulation train the same bits as before.
            (micro == 1 ? loss : loss.mul(share)).backward();
            lossSum += value;
            samples += batch.Size;
            cursor = Job.Data.Advance(cursor);
        }
        return (micro == 1 ? lossSum : lossSum / micro, samples);
    }

    /// <summary>
    /// Clips the gradients on the parameters if the job asks, applies them, and moves cursor, counters and
    /// schedule on by one optimizer step; true when the step ended an epoch.
    /// </summary>
    public bool ApplyStep(long samples)
    {
        _components.WaitForCapture(); // the step changes parameters and moments that a snapshot may still be copying
        if (Job.ClipGradientNorm is { } maxNorm)
        {
            LastGradientNorm = GradientClipping.ClipByGlobalNorm(_parameters, maxNorm);
        }
        Job.Optimizer.step();
        _scheduler.Advance();
        _torchScheduler?.Step();
        var next = Cursor;
        for (var i = 0; i < Job.AccumulateSteps; i++)
        {
            next = Job.Data.Advance(next);
        }
        var epochEnded = next.Epoch != Cursor.Epoch;
        Cursor = next;
        Counters = new TrainingCounters(Counters.Iteration + 1, Cursor.Epoch, Counters.SamplesSeen + samples);
        return epochEnded;
    }

    /// <summary>
    /// Captures the state after the last step. The parameters and the optimizer's state are copied in the
    /// background while the next forward and backward pass run; the next <see cref="ApplyStep"/>, restore or
    /// <see cref="WaitForCapture"/> waits for that copy. In place (for a save that waits for its write) the
    /// parameters are not copied at all, and those wait for the write instead.
    /// </summary>
    public PendingSnapshot Capture(string reason, int threads, bool inPlace = false)
    {
        Job.BeforeSave?.Invoke(Counters);
        return _components.Capture(
            new CheckpointInfo(Job.Name, Counters.Iteration, Counters.Epoch, Counters.SamplesSeen, "", reason, DateTimeOffset.UtcNow, threads) { JobAssembly = JobAssembly, JobArgs = JobArgs }, inPlace);
    }

    /// <summary>Where the job's code came from, recorded in every checkpoint (null: a built-in job).</summary>
    public JobAssemblyRef? JobAssembly { get; init; }

    /// <summary>The job's arguments, recorded in every checkpoint (null: none).</summary>
    public IReadOnlyDictionary<string, string>? JobArgs { get; init; }

    /// <summary>Waits for the background copy of the last capture; call before disposing the job.</summary>
    public TimeSpan WaitForCapture() => _components.WaitForCapture();

    /// <summary>Restores everything for a resume, leaving out optimizer or scheduler state when asked.</summary>
    public RestoreReport Resume(LoadedCheckpoint checkpoint, bool skipOptimizer = false, bool skipScheduler = false)
    {
        if (checkpoint.Info.Job != Job.Name)
        {
            throw new CheckpointMismatchException($"checkpoint {checkpoint.Name} is of job '{checkpoint.Info.Job}', not '{Job.Name}'; use a work dir of this job or --load-from for weights only");
        }
        var only = _components.ComponentNames.ToHashSet(StringComparer.Ordinal);
        if (skipOptimizer)
        {
            only.Remove(ComponentNames.Optimizer);
        }
        if (skipScheduler)
        {
            only.Remove(ComponentNames.Scheduler);
        }
        var report = _components.Restore(checkpoint, only);
        if (skipScheduler && !skipOptimizer)
        {
            // The restored optimizer options hold the rate the old schedule reached; a TorchSharp scheduler
            // would carry on from it, so it is rebuilt to start over as the built-in schedules do.
            _torchScheduler?.Restart();
        }
        return AfterLoad(report);
    }

    /// <summary>Restores the model's weights only (fine-tuning).</summary>
    public RestoreReport LoadWeights(LoadedCheckpoint checkpoint) =>
        AfterLoad(_components.Restore(checkpoint, new HashSet<string>(StringComparer.Ordinal) { ModelCheckpointable.ComponentName }));

    private RestoreReport AfterLoad(RestoreReport report)
    {
        Job.AfterLoad?.Invoke(report);
        return report;
    }

    private static void Validate(TrainingJob job)
    {
        if (job.AccumulateSteps < 1)
        {
            throw new ArgumentException($"job {job.Name}: AccumulateSteps must be 1 or more, not {job.AccumulateSteps}");
        }
        if (job.ClipGradientNorm is { } maxNorm && !(maxNorm > 0 && double.IsFinite(maxNorm)))
        {
            throw new ArgumentException($"job {job.Name}: ClipGradientNorm must be a positive number, not {maxNorm}");
        }
        if (job.DiffRankSeed && job.Random is null)
        {
            throw new ArgumentException($"job {job.Name}: DiffRankSeed seeds the job's Random generator, which it does not set");
        }
    }
}

public static class ComponentNames
{
    public const string Optimizer = "optimizer";
    public const string Scheduler = "scheduler";
    public const string Rng = "rng";
    public const string Data = "data";
    public const string Counters = "counters";
}
