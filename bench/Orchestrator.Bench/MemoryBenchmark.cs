using System.Diagnostics;
using Akka.Actor;
using Orchestrator.Actors.Job;
using Orchestrator.Actors.Persistence;
using Orchestrator.Trainer.Checkpointing;
using Orchestrator.Trainer.Jobs;

namespace Orchestrator.Bench;

/// <summary>
/// Whether memory stays flat over a long run through the actor runtime (checkpoints included): the
/// process's resident set, which counts libtorch's native allocations too, sampled every 5% of the run.
/// The garbage collector makes it a sawtooth, so the medians of the second and last quarters are compared.
/// </summary>
internal static class MemoryBenchmark
{
    public static Row Run(int steps, int threads, string scratch)
    {
        var workDir = Directory.CreateDirectory(Path.Combine(scratch, $"memory-{Guid.NewGuid():N}")).FullName;
        using var system = OrchestratorSystem.Create("bench", JournalSettings.SqliteIn(workDir));
        var samples = new ResidentSamples(steps / 20);
        var reporter = system.ActorOf(ProgressCallback.Props(m =>
        {
            if (m is ProgressStep step)
            {
                samples.Stepped(step.Step.Iteration);
            }
        }));
        var spec = new JobSpec
        {
            Job = MlpJob.Name,
            WorkDir = workDir,
            JobOptions = ModelSize.Small.Options,
            Steps = steps,
            Threads = threads,
            Schedule = new CheckpointSchedule(EveryIterations: 500),
            Keep = 2,
        };
        var supervisor = system.ActorOf(JobSupervisor.Props(spec, reporter));
        supervisor.Ask<JobFinished>(RunJob.Instance, TimeSpan.FromMinutes(30)).GetAwaiter().GetResult();
        system.Terminate().Wait();
        Directory.Delete(workDir, recursive: true);
        var quarter = samples.Values.Count / 4;
        return new Row($"Memory over {steps:N0} steps (1 MB model, R=1, checkpoint every 500)", "MB",
            new Measurement(samples.Values.Skip(3 * quarter).ToList()), new Measurement(samples.Values.Skip(quarter).Take(quarter).ToList()),
            "resident set in the run's second quarter", 1.05, false,
            "dispose scopes free each step's tensors; the resident set is a garbage-collector sawtooth without a trend");
    }

    private sealed class ResidentSamples(long every)
    {
        public List<double> Values { get; } = [];

        public void Stepped(long step)
        {
            if (step % every == 0)
            {
                Values.Add(Resident());
            }
        }

        private static double Resident()
        {
            using var self = Process.GetCurrentProcess();
            self.Refresh();
            return self.WorkingSet64 / 1e6;
        }
    }
}
