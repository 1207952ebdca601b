using System.Diagnostics;
using Akka.Actor;
using Orchestrator.Actors.Job;
using Orchestrator.Actors.Persistence;
using Orchestrator.Trainer.Checkpointing;
using Orchestrator.Trainer.Data;
using Orchestrator.Trainer.Jobs;
using Orchestrator.Trainer.Runtime;
using static TorchSharp.torch;

namespace Orchestrator.Bench;

/// <summary>Steps per second through the actor runtime against a bare TorchSharp loop over the same job.</summary>
internal static class OverheadBenchmark
{
    /// <summary>
    /// Each sample times <paramref name="steps"/> steps after <paramref name="warmUpSteps"/> untimed ones, in
    /// both loops alike. The warm-up leaves out JIT and first-touch allocations, and in the runtime the start
    /// of the job: for about half a second its start-up code (journal queries, actor set-up) is recompiled by
    /// the JIT's background tiering, on the core the bare loop has to itself. That start is part of the
    /// recovery rows; this row is the steady cost a long job pays per step.
    /// </summary>
    public static Row Run(ModelSize size, int ranks, int warmUpSteps, int steps, int repetitions, int threads, string scratch)
    {
        // One discarded round of each warms the JIT and the allocator (long enough at 1 MB for tiered
        // compilation to finish: while it runs, its thread takes a core from whatever is measured); then the
        // two alternate, so drift in the machine's speed falls on both alike.
        BareLoop(size, 3, Math.Min(steps, 200), threads);
        ThroughActors(size, ranks, 3, Math.Min(steps, 200), threads, scratch);
        var (actors, bare) = Measurement.Alternate(repetitions,
            () => ThroughActors(size, ranks, warmUpSteps, steps, threads, scratch),
            () => BareLoop(size, warmUpSteps, steps, threads));
        return new Row($"Orchestration overhead, {size.Name}, R={ranks}", "steps/s", actors, bare, "bare TorchSharp loop", ranks == 1 ? 0.98 : null, true,
            ranks == 1
                ? "the rank steps on its own between checkpoints and faults (windows of about 50 ms), reporting its steps every 10 ms; the gradients stay in the tensors"
                : "per step: each rank copies its gradients out of the tensors once, the supervisor averages them chunk by chunk on one thread, each rank copies the average into its grads and takes the whole optimizer step; thread hand-offs between actors and rank threads");
    }

    /// <summary>The loop a user would write by hand: same model, data, optimizer and thread count.</summary>
    public static double BareLoop(ModelSize size, int warmUpSteps, int steps, int threads)
    {
        DeterministicRuntime.Configure(1, threads);
        using var job = JobCatalog.Factory(MlpJob.Name, size.Options)();
        var data = (IDataSource)job.Data;
        var cursor = DataCursor.Start(1);
        void Step()
        {
            using var scope = NewDisposeScope();
            using var batch = data.Read(cursor);
            job.Model.train();
            job.Optimizer.zero_grad();
            var loss = job.Loss(batch);
            _ = loss.item<float>();
            loss.backward();
            job.Optimizer.step();
            cursor = data.Advance(cursor);
        }
        for (var i = 0; i < warmUpSteps; i++)
        {
            Step();
        }
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < steps; i++)
        {
            Step();
        }
        return steps / clock.Elapsed.TotalSeconds;
    }

    private static double ThroughActors(ModelSize size, int ranks, int warmUpSteps, int steps, int threads, string scratch)
    {
        var workDir = Path.Combine(scratch, $"overhead-{Guid.NewGuid():N}");
        using var system = OrchestratorSystem.Create("bench", JournalSettings.SqliteIn(Directory.CreateDirectory(workDir).FullName));
        var timings = new StepTimings();
        var reporter = system.ActorOf(ProgressCallback.Props(m =>
        {
            if (m is ProgressStep step)
            {
                timings.Stepped(step.Step.Iteration);
            }
        }));
        var spec = new JobSpec
        {
            Job = MlpJob.Name,
            WorkDir = workDir,
            JobOptions = size.Options,
            Ranks = ranks,
            Steps = warmUpSteps + steps,
            Threads = threads,
            Schedule = new CheckpointSchedule(EveryIterations: 1_000_000, SaveLast: false),
        };
        var supervisor = system.ActorOf(JobSupervisor.Props(spec, reporter));
        var finished = supervisor.Ask<JobFinished>(RunJob.Instance, TimeSpan.FromMinutes(30)).GetAwaiter().GetResult();
        if (finished.Outcome != JobOutcome.Completed)
        {
            throw new InvalidOperationException($"benchmark job did not complete: {finished.Message}");
        }
        system.Terminate().Wait();
        Directory.Delete(workDir, recursive: true);
        return timings.StepsPerSecond(warmUpSteps, warmUpSteps + steps);
    }
}

/// <summary>When each step was reported, on one clock.</summary>
internal sealed class StepTimings
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Dictionary<long, TimeSpan> _at = [];
    private readonly Lock _gate = new();

    public void Stepped(long step)
    {
        lock (_gate)
        {
            _at[step] = _clock.Elapsed;
        }
    }

    public double StepsPerSecond(long first, long last)
    {
        lock (_gate)
        {
            return (last - first) / (_at[last] - _at[first]).TotalSeconds;
        }
    }
}
