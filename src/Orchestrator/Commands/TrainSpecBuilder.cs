using System.Text.RegularExpressions;
using Orchestrator.Actors.Job;
using Orchestrator.Trainer.Checkpointing;
using Orchestrator.Trainer.Jobs;
using Orchestrator.Trainer.Jobs.Loading;
using Orchestrator.Trainer.Training;

namespace Orchestrator.Cli.Commands;

/// <summary>Turns <c>train</c>'s flags and config file (flags win) into a <see cref="JobSpec"/>.</summary>
internal static class TrainSpecBuilder
{
    // Upper bounds far past any real run, low enough that no count overflows or turns into an hour-long
    // allocation: a million million steps, a thousand restarts, an hour's backoff.
    private const long MaxSteps = 1_000_000_000_000;
    private const long MaxEpochs = 1_000_000_000;
    private const int MaxKeep = 1_000_000;
    private const int MaxRestarts = 1_000;
    private const double MaxBackoffMilliseconds = 3_600_000;

    // The built-in jobs take a narrower range (BuiltInJobRanges); this one holds for any job.
    private const double MaxLearningRate = 1_000;

    /// <summary>
    /// For <c>train</c>, which runs here: <see cref="Build"/>, and the work dir and SQLite journal checked on
    /// this machine (a folder it may list and write, a journal it may write) before anything is created.
    /// <c>submit</c> builds without these: the work dir lives on the cluster's shared file system.
    /// </summary>
    public static JobSpec BuildToRunHere(ParsedArguments parsed, TrainConfigFile config)
    {
        var spec = Build(parsed, config);
        WorkDirCheck.ForTraining(spec.WorkDir);
        CheckJournalFile(parsed.Value("--journal") ?? config.Journal, spec.WorkDir);
        return spec;
    }

    public static JobSpec Build(ParsedArguments parsed, TrainConfigFile config)
    {
        var job = parsed.Value("--job") ?? config.Job ?? throw new UsageException("--job is required (mlp, cnn or charlm, or a job of your --job-assembly)");
        var assembly = (parsed.Value("--job-assembly") ?? config.JobAssembly) is { } assemblyPath ? JobAssemblyRef.Of(assemblyPath) : null;
        var workDir = WorkDirCheck.FullPath("--work-dir", parsed.Value("--work-dir") ?? config.WorkDir ?? throw new UsageException("--work-dir is required"));
        var ranks = parsed.Int("--ranks") ?? config.Ranks ?? 1;
        var (cliSteps, cliEpochs) = (OptionRange.Check("--steps", parsed.Long("--steps"), 1, MaxSteps), OptionRange.Check("--epochs", parsed.Long("--epochs"), 1, MaxEpochs));
        var (steps, epochs) = cliSteps is not null || cliEpochs is not null
            ? (cliSteps, cliEpochs)
            : (OptionRange.Check("--steps", config.Steps, 1, MaxSteps), OptionRange.Check("--epochs", config.Epochs, 1, MaxEpochs));
        if (steps is null && epochs is null)
        {
            steps = 1000;
        }
        var everyEpochs = OptionRange.Check("--checkpoint-every-epochs", parsed.Long("--checkpoint-every-epochs") ?? config.CheckpointEveryEpochs, 1, MaxEpochs);
        var everySeconds = OptionRange.Positive("--checkpoint-every-seconds", parsed.Double("--checkpoint-every-seconds") ?? config.CheckpointEverySeconds, OptionRange.WeekSeconds, " seconds");
        var everySteps = OptionRange.Check("--checkpoint-every", parsed.Long("--checkpoint-every") ?? config.CheckpointEvery, 1, MaxSteps)
            ?? (everyEpochs is null && everySeconds is null ? 100 : null);
        OptionRange.Check("--metrics-port", parsed.Int("--metrics-port") ?? config.MetricsPort, 1, 65535);
        var resume = parsed.Value("--resume") ?? config.Resume ?? "auto";
        return new JobSpec
        {
            Job = job,
            WorkDir = workDir,
            JobAssembly = assembly,
            JobArgs = JobArguments(parsed, config),
            JobOptions = new BuiltInJobOptions
            {
                Seed = OptionRange.Check("--seed", parsed.Long("--seed") ?? config.Seed, 0, long.MaxValue) ?? 1,
                BatchSize = OptionRange.Check("--batch-size", parsed.Int("--batch-size") ?? config.BatchSize, 1, int.MaxValue),
                LearningRate = OptionRange.Positive("--lr", parsed.Double("--lr") ?? config.LearningRate, MaxLearningRate),
                Samples = OptionRange.Check("--samples", parsed.Int("--samples") ?? config.Samples, 1, int.MaxValue),
                Width = OptionRange.Check("--width", parsed.Int("--width") ?? config.Width, 1, int.MaxValue),
                Device = parsed.Value("--device") ?? config.Device ?? "cpu",
            },
            Ranks = ranks,
            Steps = steps,
            Epochs = epochs,
            Threads = OptionRange.Check("--threads", parsed.Int("--threads") ?? config.Threads, 1, RunOptionsValidator.MaxThreads) ?? Math.Max(1, Trainer.Runtime.DeterministicRuntime.DefaultThreads / Math.Max(1, ranks)),
            Schedule = new CheckpointSchedule(everySteps, everyEpochs, everySeconds, SaveLast: !parsed.Has("--no-save-last") && (config.SaveLast ?? true)),
            Keep = OptionRange.Check("--keep", parsed.Int("--keep") ?? config.Keep, 0, MaxKeep) ?? 0,
            NameTemplate = parsed.Value("--name-template") ?? config.NameTemplate ?? (everyEpochs is not null ? CheckpointNaming.EpochTemplate : CheckpointNaming.IterationTemplate),
            ResumePath = resume is "auto" or "none" ? null : WorkDirCheck.FullPath("--resume", resume),
            FreshStart = resume == "none",
            LoadFrom = (parsed.Value("--load-from") ?? config.LoadFrom) is { } loadFrom ? WorkDirCheck.FullPath("--load-from", loadFrom) : null,
            ModelLoad = BuildModelLoad(parsed, config),
            SkipOptimizerState = parsed.Has("--no-optimizer-state") || config.NoOptimizerState == true,
            SkipSchedulerState = parsed.Has("--no-scheduler-state") || config.NoSchedulerState == true,
            Faults = [.. config.InjectFaults ?? [], .. parsed.Values("--inject-fault")],
            StepTimeout = TimeSpan.FromSeconds(OptionRange.Positive("--step-timeout", parsed.Double("--step-timeout") ?? config.StepTimeout, OptionRange.WeekSeconds, " seconds") ?? 60),
            GradientWire = GradientWire(parsed.Value("--gradient-dtype") ?? config.GradientDtype),
            Restarts = new RestartPolicy
            {
                MaxRestarts = OptionRange.Check("--max-restarts", parsed.Int("--max-restarts") ?? config.MaxRestarts, 0, MaxRestarts) ?? 5,
                Window = TimeSpan.FromSeconds(OptionRange.Positive("--restart-window", parsed.Double("--restart-window") ?? config.RestartWindow, OptionRange.WeekSeconds, " seconds") ?? 600),
                BaseDelay = TimeSpan.FromMilliseconds(OptionRange.Check("--restart-backoff", parsed.Double("--restart-backoff") ?? config.RestartBackoff, 0, MaxBackoffMilliseconds, " milliseconds") ?? 200),
            },
        };
    }

    private static Actors.Gradients.GradientWireType GradientWire(string? value) => value switch
    {
        null or "fp32" => Actors.Gradients.GradientWireType.Fp32,
        "bf16" => Actors.Gradients.GradientWireType.Bf16,
        "fp16" => Actors.Gradients.GradientWireType.Fp16,
        _ => throw new UsageException($"--gradient-dtype '{value}' is not a precision: give fp32 (the default), bf16 or fp16"),
    };

    // A SQLite journal that exists but may not be written fails only deep in the journal ("attempt to write a
    // readonly database", logged, not shown): refused here in one line.
    private static void CheckJournalFile(string? journal, string workDir)
    {
        if (journal is null or "sqlite")
        {
            WorkDirCheck.RequireWritableFile(Path.Combine(workDir, "journal.db"), "journal");
        }
        else if (journal.StartsWith("sqlite:", StringComparison.Ordinal) && journal.Length > "sqlite:".Length)
        {
            WorkDirCheck.RequireJournalFile(WorkDirCheck.FullPath("--journal", journal["sqlite:".Length..]));
        }
    }

    // Key surgery from the file and the flags: the flags' single values win, and lists given both ways join,
    // the file's first (a revision list is applied in order).
    private static ModelLoadOptions BuildModelLoad(ParsedArguments parsed, TrainConfigFile config)
    {
        var revisions = (config.ReviseKey ?? []).Concat(parsed.Values("--revise-key")).Select(KeyRevisionOf).ToArray();
        var options = ModelLoadOptions.Default with
        {
            Strict = !(parsed.Has("--non-strict") || config.NonStrict == true),
            RemovePrefix = parsed.Value("--remove-prefix") ?? config.RemovePrefix,
            AddPrefix = parsed.Value("--add-prefix") ?? config.AddPrefix,
            IgnoreKeys = [.. (config.IgnoreKeys ?? []).Concat(parsed.Values("--ignore-keys")).Select(pattern => CheckedRegex("--ignore-keys", pattern))],
        };
        return revisions.Length > 0 ? options with { Revisions = revisions } : options;
    }

    private static KeyRevision KeyRevisionOf(string revision)
    {
        var equals = revision.IndexOf('=', StringComparison.Ordinal);
        return equals > 0
            ? new KeyRevision(CheckedRegex("--revise-key", revision[..equals]), revision[(equals + 1)..])
            : throw new UsageException($"--revise-key '{revision}' must be REGEX=REPLACEMENT");
    }

    // A pattern that does not parse would otherwise fail at the first checkpoint load, long after the start.
    private static string CheckedRegex(string option, string pattern)
    {
        try
        {
            _ = new Regex(pattern, RegexOptions.None, TimeSpan.FromSeconds(1));
            return pattern;
        }
        catch (ArgumentException e)
        {
            throw new UsageException($"{option} '{pattern}' is not a valid regular expression ({e.Message.TrimEnd('.')})");
        }
    }

    // --job-arg KEY=VALUE pairs over the file's jobArgs object: a key given twice on the command line is a mistake.
    private static Dictionary<string, string>? JobArguments(ParsedArguments parsed, TrainConfigFile config)
    {
        var arguments = new Dictionary<string, string>(config.JobArgs ?? [], StringComparer.Ordinal);
        var fromFlags = new HashSet<string>(StringComparer.Ordinal);
        foreach (var pair in parsed.Values("--job-arg"))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new UsageException($"--job-arg '{pair}' must be KEY=VALUE");
            }
            var key = pair[..equals].Trim();
            if (!fromFlags.Add(key))
            {
                throw new UsageException($"--job-arg {key} is given twice; give it once");
            }
            arguments[key] = pair[(equals + 1)..];
        }
        return arguments.Count > 0 ? arguments : null;
    }
}
