using Orchestrator.Trainer.Checkpointing;
using Orchestrator.Trainer.Jobs;
using Orchestrator.Trainer.Training;

namespace Orchestrator.Trainer.Tests.Support;

/// <summary>Small runs of the built-in jobs, sized to finish in a fraction of a second.</summary>
public static class Runs
{
    public static RunOptions Options(string workDir, long steps, long every = 10) => new()
    {
        WorkDir = workDir,
        Steps = steps,
        Seed = 3,
        Threads = 1,
        Schedule = new CheckpointSchedule(EveryIterations: every),
    };

    public static Func<TrainingJob> Job(string name = MlpJob.Name) =>
        JobCatalog.Factory(name, new BuiltInJobOptions { Seed = 3, Samples = name == CharLmJob.Name ? 3000 : 512 });

    public static RunResult Execute(RunOptions options, string job = MlpJob.Name) => TrainingRun.Execute(Job(job), options);
}
