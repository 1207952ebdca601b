using Orchestrator.Trainer.Jobs.Loading;
using Orchestrator.Trainer.Checkpointing;
using Orchestrator.Trainer.Data;
using Orchestrator.Trainer.Jobs;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Training;

/// <summary>
/// One replica's training state: the job plus where it stands (data cursor, counters, schedule), the
/// checkpoint components that capture all of it, and the two halves of a step. The single-process loop
/// runs both halves back to back; a data-parallel rank averages gradients with its peers in between.
/// </summary>
public sealed class TrainingState
{
    private readonly Checkpointer _checkpointer = new();
    private readonly LearningRateScheduler _scheduler;

    public TrainingState(TrainingJob job, long shuffleSeed, ModelLoadOptions modelLoad)
    {
        Job = job;
        _scheduler = new LearningRateScheduler(job.Optimizer, job.LearningRate);
        Cursor = DataCursor.Start(shuffleSeed);
        _checkpointer.Add(ModelCheckpointable.ComponentName, new ModelCheckpointable(job.Model, modelLoad));
        _checkpointer.Add(ComponentNames.Optimizer, new OptimizerCheckpointable(job.Optimizer, job.Device));
        _checkpointer.Add(ComponentNames.Scheduler, new JsonCheckpointable<LearningRateScheduler.State>(
            () => new(_scheduler.StepsTaken, _scheduler.Schedule.ToString()), s => _scheduler.StepsTaken = s.StepsTaken));
        _checkpointer.Add(ComponentNames.Rng, new RngCheckpointable());
        _checkpointer.Add(ComponentNames.Data, new JsonCheckpointable<DataCursor>(() => Cursor, c => Cursor = c));
        _checkpointer.Add(ComponentNames.Counters, new JsonCheckpointable<TrainingCounters>(() => Counters, c => Counters = c));
        foreach (var (name, component) in job.ExtraCheckpointables)
        {
            _checkpointer.Add(name, component);
        }
    }

    public TrainingJob Job { get; }

    public DataCursor Cursor { get; private set; }

    public TrainingCounters Counters { get; private set; } = TrainingCounters.Zero;

    /// <summary>The learning rate the next step will use.</summary>
    public double LearningRate => _scheduler.Current;

    /// <summary>Forward and backward on the batch at the cursor; gradients are left on the parameters.</summary>
    public (double Loss, long Samples) ComputeGradients(Func<Tensor, Tensor>? corruptLoss = null)
    {
        using var scope = NewDisposeScope();
        _scheduler.Apply();
        using var batch = Job.Data.Read(Cursor);
        using var onDevice = new Batch(batch.Input.to(Job.Device), batch.Target.to(Job.Device));
        Job.Model.train();
        Job.Optimizer.zero_grad();
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
        loss.backward();
        return (value, batch.Size);
    }

    /// <summary>Applies the gradients on the parameters and moves cursor, counters and schedule on; true at an epoch's end.</summary>
    public bool ApplyStep(long samples)
    {
        _checkpointer.WaitForCapture(); // the step changes parameters and moments that a snapshot may still be copying
        Job.Optimizer.step();
        _scheduler.Advance();
        var next = Job.Data.Advance(Cursor);
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
    public PendingSnapshot Capture(string reason, int threads, bool inPlace = false) => _checkpointer.Capture(
        new CheckpointInfo(Job.Name, Counters.Iteration, Counters.Epoch, Counters.SamplesSeen, "", reason, DateTimeOffset.UtcNow, threads) { JobAssembly = JobAssembly, JobArgs = JobArgs }, inPlace);

    /// <summary>Where the job's code came from, recorded in every checkpoint (null: a built-in job).</summary>
    public JobAssemblyRef? JobAssembly { get; init; }

    /// <summary>The job's arguments, recorded in every checkpoint (null: none).</summary>
    public IReadOnlyDictionary<string, string>? JobArgs { get; init; }

    /// <summary>Waits for the background copy of the last capture; call before disposing the job.</summary>
    public TimeSpan WaitForCapture() => _checkpointer.WaitForCapture();

    /// <summary>Restores everything for a resume, leaving out optimizer or scheduler state when asked.</summary>
    public RestoreReport Resume(LoadedCheckpoint checkpoint, bool skipOptimizer = false, bool skipScheduler = false)
    {
        if (checkpoint.Info.Job != Job.Name)
        {
            throw new CheckpointMismatchException($"checkpoint {checkpoint.Name} is of job '{checkpoint.Info.Job}', not '{Job.Name}'; use a work dir of this job or --load-from for weights only");
        }
        var only = _checkpointer.ComponentNames.ToHashSet(StringComparer.Ordinal);
        if (skipOptimizer)
        {
            only.Remove(ComponentNames.Optimizer);
        }
        if (skipScheduler)
        {
            only.Remove(ComponentNames.Scheduler);
        }
        return _checkpointer.Restore(checkpoint, only);
    }

    /// <summary>Restores the model's weights only (fine-tuning).</summary>
    public RestoreReport LoadWeights(LoadedCheckpoint checkpoint) =>
        _checkpointer.Restore(checkpoint, new HashSet<string>(StringComparer.Ordinal) { ModelCheckpointable.ComponentName });
}

public static class ComponentNames
{
    public const string Optimizer = "optimizer";
    public const string Scheduler = "scheduler";
    public const string Rng = "rng";
    public const string Data = "data";
    public const string Counters = "counters";
}
