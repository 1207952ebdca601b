using Orchestrator.Trainer.Checkpointing;
using Orchestrator.Trainer.Data;
using Orchestrator.Trainer.Training;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Jobs;

/// <summary>
/// Everything one training job is made of. Built-in jobs and users' own jobs are both just this: a model,
/// its optimizer, a learning-rate schedule, a data source and a loss. Hand a factory of it to
/// <see cref="TrainingRun"/> and it gets scheduled checkpoints and exact resume.
/// </summary>
public sealed class TrainingJob : IDisposable
{
    public required string Name { get; init; }

    public required nn.Module Model { get; init; }

    public required optim.Optimizer Optimizer { get; init; }

    public required IDataSource Data { get; init; }

    /// <summary>Forward pass and loss for one batch already on <see cref="Device"/>; returns a scalar.</summary>
    public required Func<Batch, Tensor> Loss { get; init; }

    /// <summary>The built-in schedule, set before each step; ignored when <see cref="Scheduler"/> is given.</summary>
    public LearningRateSchedule LearningRate { get; init; } = new ConstantLearningRate(1e-3);

    /// <summary>
    /// One of TorchSharp's own schedulers, built from the job's optimizer (for example
    /// <c>o =&gt; optim.lr_scheduler.StepLR(o, 100, 0.5)</c>) and stepped once per optimizer step. A factory
    /// rather than an instance, because a resume rebuilds it and replays its steps (see
    /// <see cref="TorchLearningRateScheduler"/>). Replaces <see cref="LearningRate"/>.
    /// </summary>
    public Func<optim.Optimizer, optim.lr_scheduler.LRScheduler>? Scheduler { get; init; }

    /// <summary>
    /// Micro-batches per optimizer step (gradient accumulation): each step reads this many consecutive
    /// batches, averages their gradients, then steps once. Iterations, schedules and checkpoints count
    /// optimizer steps, so a checkpoint never holds half-accumulated gradients.
    /// </summary>
    public int AccumulateSteps { get; init; } = 1;

    /// <summary>
    /// Clips the gradients to this global 2-norm before each optimizer step, after data-parallel averaging,
    /// so every rank clips the same gradients the same way. Null: no clipping.
    /// </summary>
    public double? ClipGradientNorm { get; init; }

    /// <summary>
    /// The job's own generator for per-step randomness (dropout masks, augmentation): draw from it with
    /// <c>generator: job.Random</c>. The loop reseeds it before every micro-batch from the run's seed and the
    /// iteration (see <see cref="StepSeeds"/>), so it needs no checkpoint and a resume draws the same numbers.
    /// A generator of its own, because ranks in one process share libtorch's default one.
    /// </summary>
    public Generator? Random { get; init; }

    /// <summary>
    /// Seed <see cref="Random"/> differently on each rank (mmengine's diff_rank_seed), so ranks draw different
    /// dropout and augmentation. Initial weights come from the default generator and stay the same on every rank.
    /// </summary>
    public bool DiffRankSeed { get; init; }

    /// <summary>Called on the training thread just before a checkpoint is captured (mmengine's before_save_checkpoint).</summary>
    public Action<TrainingCounters>? BeforeSave { get; init; }

    /// <summary>Called after a checkpoint is restored, with what was restored (mmengine's after_load_checkpoint).</summary>
    public Action<RestoreReport>? AfterLoad { get; init; }

    public Device Device { get; init; } = CPU;

    /// <summary>More state to checkpoint, by name (detectron2's add_checkpointable).</summary>
    public IReadOnlyDictionary<string, ICheckpointable> ExtraCheckpointables { get; init; } = new Dictionary<string, ICheckpointable>();

    private int _saveRequested;

    /// <summary>
    /// Asks for a checkpoint at the next step boundary (safe from any thread, the job's loss and hooks
    /// included). Several requests before that boundary make one save.
    /// </summary>
    public void RequestSave() => Volatile.Write(ref _saveRequested, 1);

    /// <summary>True once per <see cref="RequestSave"/>: the loop that saves clears the request.</summary>
    internal bool TakeSaveRequest() => Interlocked.Exchange(ref _saveRequested, 0) == 1;

    public void Dispose()
    {
        Random?.Dispose();
        Optimizer.Dispose();
        Model.Dispose();
        (Data as IDisposable)?.Dispose();
    }
}
