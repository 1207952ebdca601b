using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Akka.Actor;
using Orchestrator.Actors.Job;
using Orchestrator.Actors.Persistence;
using Orchestrator.Trainer.Checkpointing;
using Orchestrator.Trainer.Jobs;

namespace Orchestrator.Bench;

/// <summary>How fast training is back: after a rank crash (in process), and after kill -9 of the whole process.</summary>
internal static partial class RecoveryBenchmark
{
    public static Row RankCrash(int repetitions, string scratch) => new(
        "Recovery from a rank crash (R=2, 1 MB model, 10 steps redone)", "ms",
        Measurement.Repeat(repetitions, () => RankCrashOnce(scratch)), null, "", null, false,
        "restart backoff (50 ms here), rebuilding two replicas, loading the checkpoint, then redoing the steps since it");

    public static IReadOnlyList<Row> ProcessKill(int repetitions, string scratch)
    {
        var published = Enumerable.Range(0, repetitions).Select(_ => ProcessKillOnce(scratch, OrchestratorCommand.Published)).ToList();
        var built = Enumerable.Range(0, repetitions).Select(_ => ProcessKillOnce(scratch, OrchestratorCommand.BuildOutput)).ToList();
        Row Of(IReadOnlyList<KillRecovery> runs, string name, Func<KillRecovery, double> part, string limit) =>
            new(name, "ms", new(runs.Select(part).ToList()), null, "", null, false, limit);
        return
        [
            Of(published, "kill -9 recovery: rerun to ranks restored", r => r.Resumed,
                "the three parts below: process start, journal recovery, checkpoint load and replicas (the program as published: ReadyToRun)"),
            Of(published, "kill -9 recovery: rerun to first step done", r => r.FirstStep, "the above plus one step"),
            Of(published, "kill -9 recovery, part: process start", r => r.Resumed - r.Journal - r.Ranks,
                "from launch to the job's supervisor: the dotnet host, the runtime, building rank 0's replica once to check the job, configuration and the actor system"),
            Of(published, "kill -9 recovery, part: journal recovery (SQLite)", r => r.Journal,
                "the supervisor's replay: the SQL plugin's start (its first queries; its query building is compiled at run time even when published) and the job's events"),
            Of(published, "kill -9 recovery, part: checkpoint load and replicas", r => r.Ranks,
                "choosing and verifying the newest checkpoint, building two replicas and loading it into each"),
            Of(published, "kill -9 recovery, part: first step", r => r.FirstStep - r.Resumed, "one step of two ranks"),
            Of(built, "kill -9 recovery, build output (JIT): rerun to first step done", r => r.FirstStep,
                "as above for the program that dotnet run starts, its code compiled as it runs"),
            Of(built, "kill -9 recovery, build output (JIT), part: journal recovery", r => r.Journal,
                "the part that compiling ahead of time shortens most"),
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

    private static KillRecovery ProcessKillOnce(string scratch, Func<IEnumerable<string>, ProcessStartInfo> program)
    {
        var workDir = Path.Combine(scratch, $"kill-{Guid.NewGuid():N}");
        // The kill comes 25 steps after a checkpoint, so that checkpoint's background write has landed.
        string[] args = ["train", "--job", "cnn", "--work-dir", workDir, "--steps", "40", "--checkpoint-every", "10", "--threads", "1", "--ranks", "2", "--inject-fault", "kill-process@step=35"];
        using (var killed = Start(program(args)))
        {
            killed.WaitForExit();
        }
        using var rerun = Start(program(args));
        var clock = Stopwatch.StartNew();
        double resumed = double.NaN;
        double firstStep = double.NaN;
        Match? parts = null;
        var seen = new List<string>();
        while (rerun.StandardError.ReadLine() is { } line)
        {
            seen.Add(line);
            if (double.IsNaN(resumed) && line.Contains("resumed from", StringComparison.Ordinal))
            {
                resumed = clock.Elapsed.TotalMilliseconds;
                parts = StartupParts().Match(line);
            }
            else if (!double.IsNaN(resumed) && line.StartsWith("step ", StringComparison.Ordinal))
            {
                firstStep = clock.Elapsed.TotalMilliseconds;
                break;
            }
        }
        rerun.WaitForExit();
        if (double.IsNaN(firstStep) || parts is not { Success: true })
        {
            throw new InvalidOperationException($"the rerun after kill -9 never reported a resumed step with its start-up times; it printed: {string.Join(" | ", seen)}");
        }
        Directory.Delete(workDir, recursive: true);
        double Milliseconds(string part) => double.Parse(parts.Groups[part].Value, CultureInfo.InvariantCulture) * 1000;
        return new KillRecovery(resumed, firstStep, Milliseconds("journal"), Milliseconds("ranks"));
    }

    // The rerun's own account of its start (see ProgressObserver), to split the time this side measures.
    [GeneratedRegex(@"journal (?<journal>[0-9.]+) s, checkpoint and ranks (?<ranks>[0-9.]+) s\)")]
    private static partial Regex StartupParts();

    private static Process Start(ProcessStartInfo program)
    {
        var process = Process.Start(program)!;
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

    /// <summary>One rerun after kill -9, in milliseconds: to ranks restored and to the first step on the bench's clock, and the journal's and the ranks' parts as the rerun timed them.</summary>
    private sealed record KillRecovery(double Resumed, double FirstStep, double Journal, double Ranks);
}
