using Orchestrator.Trainer.Checkpointing;
using Orchestrator.Trainer.Data;
using Orchestrator.Trainer.Jobs;
using Orchestrator.Trainer.Runtime;
using Orchestrator.Trainer.Training;
using SampleJobs;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Tests.Support;

/// <summary>The <c>fulljob</c> test job built in process, and copies of jobs with a hook or two added.</summary>
public static class FullJobs
{
    public const long Seed = 3;

    /// <summary>Builds rank <paramref name="rank"/>'s replica the way a run does: runtime seeded first.</summary>
    public static TrainingJob Create(int rank = 0, int worldSize = 1, params (string Key, string Value)[] args)
    {
        DeterministicRuntime.Configure(Seed, 1);
        return new FullJob().Create(Context(rank, worldSize, args));
    }

    public static JobContext Context(int rank = 0, int worldSize = 1, params (string Key, string Value)[] args) => new()
    {
        Rank = rank,
        WorldSize = worldSize,
        Seed = Seed,
        Args = new JobArgs(args.ToDictionary(a => a.Key, a => a.Value)),
    };

    public static Func<TrainingJob> Factory(params (string Key, string Value)[] args) => () => new FullJob().Create(Context(args: args));

    /// <summary>The same job (it takes over its parts) with hooks, another loss or other extra state.</summary>
    public static TrainingJob With(
        TrainingJob job,
        Action<TrainingCounters>? beforeSave = null,
        Action<RestoreReport>? afterLoad = null,
        Func<Batch, Tensor>? loss = null,
        IReadOnlyDictionary<string, ICheckpointable>? extra = null) => new()
    {
        Name = job.Name,
        Model = job.Model,
        Optimizer = job.Optimizer,
        Data = job.Data,
        Loss = loss ?? job.Loss,
        LearningRate = job.LearningRate,
        Scheduler = job.Scheduler,
        AccumulateSteps = job.AccumulateSteps,
        ClipGradientNorm = job.ClipGradientNorm,
        Random = job.Random,
        DiffRankSeed = job.DiffRankSeed,
        Device = job.Device,
        ExtraCheckpointables = extra ?? job.ExtraCheckpointables,
        BeforeSave = beforeSave ?? job.BeforeSave,
        AfterLoad = afterLoad ?? job.AfterLoad,
    };
}
