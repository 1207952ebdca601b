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
    /// of the job: its start-up code (journal queries, event serialisation, actor set-up), called once per
    /// job and so once per sample, reaches the JIT's call count after some tens of samples and is then
    /// recompiled by the background tiering thread, 500 to 1300 methods in the first 0.2 to 1.1 s of a job
    /// (seen with a JIT event listener), and a 1 MB sample whose window held that ran 2 to 5% slower. A long
    /// job pays it once, in its first seconds: that start is part of the recovery rows, and this row is the
    /// steady cost a long job pays per step.
    /// </summary>
    public static Row Run(ModelSize size, int ranks, int warmUpSteps, int steps, int repetitions, int threads, string scratch)
    {
        WarmUp(size, ranks, warmUpSteps, steps, threads, scratch);
        var name = $"Orchestration overhead, {size.Name}, R={ranks}";
        Func<double> actors = () => Logged("runtime", ThroughActors(size, ranks, warmUpSteps, steps, threads, scratch), steps);
        Func<double> bare = () => Logged("bare", BareLoopWindow(size, warmUpSteps, steps, threads), steps);
        if (ranks == 1)
        {
            // The two alternate, so drift in the machine's speed falls on both alike.
            var (alone, bareLoop) = Measurement.Alternate(repetitions, actors, bare);
            return new Row(name, "steps/s", alone, bareLoop, "bare TorchSharp loop", 0.98, true,
                "the rank steps on its own between checkpoints and faults (windows of about 50 ms), reporting its steps every 10 ms; the gradients stay in the tensors", Paired: true);
        }
        // The ratio stays against one bare loop, the overhead as row 1 defines it; replicas side by side that never
        // synchronise tell how much of the gap is the machine's (shared cores and memory) and how much the runtime's.
        var taken = Measurement.InTurns(repetitions, bare, () => SideBySideLoops.Run(size, ranks, warmUpSteps, steps, threads), actors);
        var (one, sideBySide, ranked) = (taken[0], taken[1], taken[2]);
        return new Row(name, "steps/s", ranked, one, "bare TorchSharp loop", null, true,
            SideBySideLoops.Described(ranks, sideBySide, one, ranked)
            + ". Per step: each rank copies its gradients out of the tensors once, averages its half of them from both ranks' arrays into one shared array on its own thread (a barrier before and after), copies that average into its grads and takes the whole optimizer step; its step end goes to the supervisor, whose next start (on the first end) hands off through the rank's actor to its thread",
            sideBySide, SideBySideLoops.ReferenceName, Paired: true);
    }

    /// <summary>
    /// Discarded rounds of each until the JIT is done with the runtime's code. Each new actor system brings
    /// methods the JIT compiles first quickly and then, in the background, again with optimisations (tiered
    /// compilation); for the first few systems of a process that second pass runs during the timed steps and
    /// takes hundreds of milliseconds of the second core (measured: 300 to 770 ms in a 1.5 s sample), so the
    /// rank thread is preempted hundreds of times. A long job pays that once, in its first seconds; the
    /// rounds go on until the JIT takes less than 1% of one's timed window, at most <see cref="MaxWarmUpRounds"/>.
    /// </summary>
    private static void WarmUp(ModelSize size, int ranks, int warmUpSteps, int steps, int threads, string scratch)
    {
        for (var round = 1; round <= MaxWarmUpRounds; round++)
        {
            BareLoop(size, 3, Math.Min(steps, 200), threads);
            var window = ThroughActors(size, ranks, warmUpSteps, steps, threads, scratch);
            if (window.Runtime.Jit < window.Duration * 0.01 || round == MaxWarmUpRounds)
            {
                Console.Error.WriteLine($"  warm-up: {round} round(s), the last with {window.Runtime.Jit.TotalMilliseconds:0} ms of JIT in its {window.Duration.TotalSeconds:0.0} s of timed steps");
                return;
            }
        }
    }

    private const int MaxWarmUpRounds = 5;

    /// <summary>Each sample on the log with what the runtime did during it, so that an outlier can be explained.</summary>
    private static double Logged(string loop, TimedWindow window, int steps)
    {
        Console.Error.WriteLine($"    {loop}: {window.StepsPerSecond:0.0} steps/s; {window.Runtime.Described(steps, window.Duration)}; stepping on CPU {window.Cpus.First}->{window.Cpus.Last}");
        return window.StepsPerSecond;
    }

    /// <summary>The loop a user would write by hand: same model, data, optimizer and thread count.</summary>
    public static double BareLoop(ModelSize size, int warmUpSteps, int steps, int threads) =>
        BareLoopWindow(size, warmUpSteps, steps, threads).StepsPerSecond;

    private static TimedWindow BareLoopWindow(ModelSize size, int warmUpSteps, int steps, int threads)
    {
        DeterministicRuntime.Configure(1, threads);
        using var job = JobCatalog.Factory(MlpJob.Name, size.Options)();
        var step = StepOf(job);
        for (var i = 0; i < warmUpSteps; i++)
        {
            step();
        }
        var start = RuntimeActivity.Now();
        var firstCpu = SteppingCpu.OfThisThread();
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < steps; i++)
        {
            step();
        }
        var duration = clock.Elapsed;
        return new TimedWindow(steps / duration.TotalSeconds, duration, RuntimeActivity.Now().Since(start), (firstCpu, SteppingCpu.OfThisThread()));
    }

    /// <summary>One step of the hand-written loop over <paramref name="job"/>'s own data shard, each call the next batch.</summary>
    public static Action StepOf(TrainingJob job)
    {
        var data = (IDataSource)job.Data;
        var cursor = DataCursor.Start(1);
        return () =>
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
        };
    }

    private static TimedWindow ThroughActors(ModelSize size, int ranks, int warmUpSteps, int steps, int threads, string scratch)
    {
        var workDir = Path.Combine(scratch, $"overhead-{Guid.NewGuid():N}");
        using var system = OrchestratorSystem.Create("bench", JournalSettings.SqliteIn(Directory.CreateDirectory(workDir).FullName));
        var timings = new StepTimings(warmUpSteps, warmUpSteps + steps);
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
        return timings.Window();
    }
}

/// <summary>When the timed window's first and last steps were reported, on one clock, and what the runtime had done by then.</summary>
internal sealed class StepTimings(long first, long last)
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Lock _gate = new();
    private (TimeSpan At, RuntimeActivity Runtime, int Cpu)? _first;
    private (TimeSpan At, RuntimeActivity Runtime, int Cpu)? _last;

    /// <summary>Marks the window's two ends only: the reporter does no more per step than a user's would.</summary>
    public void Stepped(long step)
    {
        if (step != first && step != last)
        {
            return;
        }
        lock (_gate)
        {
            var mark = (_clock.Elapsed, RuntimeActivity.Now(), SteppingCpu.OfThread(RankThreadName));
            if (step == first)
            {
                _first = mark;
            }
            else
            {
                _last = mark;
            }
        }
    }

    /// <summary>The steps after the first up to the last: their rate, and what the runtime did (every thread's JIT and GC) while they ran.</summary>
    public TimedWindow Window()
    {
        lock (_gate)
        {
            var (start, end) = (_first ?? throw Missing(first), _last ?? throw Missing(last));
            var duration = end.At - start.At;
            return new TimedWindow((last - first) / duration.TotalSeconds, duration, end.Runtime.Since(start.Runtime), (start.Cpu, end.Cpu));
        }
    }

    // Rank 0's dedicated thread (RankThread), which takes a one-rank job's steps.
    private const string RankThreadName = "rank-0";

    private static InvalidOperationException Missing(long step) => new($"the benchmark job never reported step {step}");
}

/// <summary>The timed steps of one sample, through the actor runtime or the bare loop.</summary>
internal sealed record TimedWindow(double StepsPerSecond, TimeSpan Duration, RuntimeActivity Runtime, (int First, int Last) Cpus);
