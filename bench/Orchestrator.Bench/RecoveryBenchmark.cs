using System.Diagnostics;
using Akka.Actor;
using Orchestrator.Actors.Job;
using Orchestrator.Actors.Persistence;
using Orchestrator.Trainer.Checkpointing;
using Orchestrator.Trainer.Jobs;

namespace Orchestrator.Bench;

/// <summary>How fast training is back: after a rank crash (in process), and after kill -9 of the whole process.</summary>
internal static class RecoveryBenchmark
{
    public static Row RankCrash(int repetitions, string scratch) => new(
        "Recovery from a rank crash (R=2, 1 MB model, 10 steps redone)", "ms",
        Measurement.Repeat(repetitions, () => RankCrashOnce(scratch)), null, "", null, false,
        "restart backoff (50 ms here), rebuilding two replicas, loading the checkpoint, then redoing the steps since it");

    public static IReadOnlyList<Row> ProcessKill(int repetitions, string scratch)
    {
        var toResumed = new List<double>();
        var toFirstStep = new List<double>();
        for (var i = 0; i < repetitions; i++)
        {
            var (resumed, firstStep) = ProcessKillOnce(scratch);
            toResumed.Add(resumed);
            toFirstStep.Add(firstStep);
        }
        return
        [
            new Row("kill -9 recovery: rerun to ranks restored", "ms", new(toResumed), null, "", null, false,
                "process start and .NET JIT, actor system, journal recovery (SQLite), replica build and checkpoint load"),
            new Row("kill -9 recovery: rerun to first step done", "ms", new(toFirstStep), null, "", null, false, "the above plus one step"),
        ];
    }

    private static double RankCrashOnce(string scratch)
    {
        var workDir = Directory.CreateDirectory(Path.Combine(scratch, $"crash-{Guid.NewGuid():N}")).FullName;
        using var system = OrchestratorSystem.Create("bench", JournalSettings.SqliteIn(workDir));
        var watch = new CrashWatch();
        // From the supervisor's failure note to the first step completed after the resumed ranks redo the
        // steps since the checkpoint: the time training was not moving forward.
        var reporter = system.ActorOf(ProgressCallback.Props(m =>
        {
            if (m is ProgressNote note && note.Message.Contains("failed at step 31", StringComparison.Ordinal))
            {
                watch.Failed();
            }
            else if (m is ProgressStep { Step.Iteration: 31 })
            {
                watch.Stepped();
            }
        }));
        var spec = new JobSpec
        {
            Job = MlpJob.Name,
            WorkDir = workDir,
            JobOptions = ModelSize.Small.Options,
            Ranks = 2,
            Steps = 40,
            Threads = 1,
            Schedule = new CheckpointSchedule(EveryIterations: 20),
            Faults = ["crash@step=31,rank=1"],
            Restarts = new RestartPolicy { BaseDelay = TimeSpan.FromMilliseconds(50) },
        };
        var supervisor = system.ActorOf(JobSupervisor.Props(spec, reporter));
        supervisor.Ask<JobFinished>(RunJob.Instance, TimeSpan.FromMinutes(10)).GetAwaiter().GetResult();
        system.Terminate().Wait();
        Directory.Delete(workDir, recursive: true);
        return watch.Milliseconds;
    }

    private static (double Resumed, double FirstStep) ProcessKillOnce(string scratch)
    {
        var workDir = Path.Combine(scratch, $"kill-{Guid.NewGuid():N}");
        // The kill comes 25 steps after a checkpoint, so that checkpoint's background write has landed.
        string[] args = ["train", "--job", "cnn", "--work-dir", workDir, "--steps", "40", "--checkpoint-every", "10", "--threads", "1", "--ranks", "2", "--inject-fault", "kill-process@step=35"];
        using (var killed = Start(args))
        {
            killed.WaitForExit();
        }
        using var rerun = Start(args);
        var clock = Stopwatch.StartNew();
        double resumed = double.NaN;
        double firstStep = double.NaN;
        var seen = new List<string>();
        while (rerun.StandardError.ReadLine() is { } line)
        {
            seen.Add(line);
            if (double.IsNaN(resumed) && line.Contains("resumed from", StringComparison.Ordinal))
            {
                resumed = clock.Elapsed.TotalMilliseconds;
            }
            else if (!double.IsNaN(resumed) && line.StartsWith("step ", StringComparison.Ordinal))
            {
                firstStep = clock.Elapsed.TotalMilliseconds;
                break;
            }
        }
        rerun.WaitForExit();
        if (double.IsNaN(firstStep))
        {
            throw new InvalidOperationException($"the rerun after kill -9 never reported a resumed step; it printed: {string.Join(" | ", seen)}");
        }
        Directory.Delete(workDir, recursive: true);
        return (resumed, firstStep);
    }

    private static Process Start(IEnumerable<string> args)
    {
        var process = Process.Start(OrchestratorCommand.With(args))!;
        process.StandardOutput.ReadToEndAsync();
        return process;
    }

    private sealed class CrashWatch
    {
        private readonly Stopwatch _clock = new();
        public double Milliseconds { get; private set; } = double.NaN;

        public void Failed() => _clock.Restart();

        public void Stepped()
        {
            if (_clock.IsRunning)
            {
                _clock.Stop();
                Milliseconds = _clock.Elapsed.TotalMilliseconds;
            }
        }
    }
}
