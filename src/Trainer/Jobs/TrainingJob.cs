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

    public LearningRateSchedule LearningRate { get; init; } = new ConstantLearningRate(1e-3);

    public Device Device { get; init; } = CPU;

    /// <summary>More state to checkpoint, by name (detectron2's add_checkpointable).</summary>
    public IReadOnlyDictionary<string, ICheckpointable> ExtraCheckpointables { get; init; } = new Dictionary<string, ICheckpointable>();

    public void Dispose()
    {
        Optimizer.Dispose();
        Model.Dispose();
        (Data as IDisposable)?.Dispose();
    }
}
