using Orchestrator.Actors.Job;
using Orchestrator.Trainer.Checkpointing;
using Orchestrator.Trainer.Jobs;
using Orchestrator.Trainer.Jobs.Loading;

namespace Orchestrator.Cli.Commands;

/// <summary>Turns <c>train</c>'s flags and config file (flags win) into a <see cref="JobSpec"/>.</summary>
internal static class TrainSpecBuilder
{
    public static JobSpec Build(ParsedArguments parsed, TrainConfigFile config)
    {
        var job = parsed.Value("--job") ?? config.Job ?? throw new UsageException("--job is required (mlp, cnn or charlm, or a job of your --job-assembly)");
        var assembly = (parsed.Value("--job-assembly") ?? config.JobAssembly) is { } assemblyPath ? JobAssemblyRef.Of(assemblyPath) : null;
        var workDir = parsed.Value("--work-dir") ?? config.WorkDir ?? throw new UsageException("--work-dir is required");
        var ranks = parsed.Int("--ranks") ?? config.Ranks ?? 1;
        var (cliSteps, cliEpochs) = (parsed.Long("--steps"), parsed.Long("--epochs"));
        var (steps, epochs) = cliSteps is not null || cliEpochs is not null ? (cliSteps, cliEpochs) : (config.Steps, config.Epochs);
        if (steps is null && epochs is null)
        {
            steps = 1000;
        }
        var everyEpochs = parsed.Long("--checkpoint-every-epochs") ?? config.CheckpointEveryEpochs;
        var everySeconds = parsed.Double("--checkpoint-every-seconds") ?? config.CheckpointEverySeconds;
        var everySteps = parsed.Long("--checkpoint-every") ?? config.CheckpointEvery ?? (everyEpochs is null && everySeconds is null ? 100 : null);
        var resume = parsed.Value("--resume") ?? config.Resume ?? "auto";
        return new JobSpec
        {
            Job = job,
            WorkDir = Path.GetFullPath(workDir),
            JobAssembly = assembly,
            JobArgs = JobArguments(parsed, config),
            JobOptions = new BuiltInJobOptions
            {
                Seed = parsed.Long("--seed") ?? config.Seed ?? 1,
                BatchSize = parsed.Int("--batch-size") ?? config.BatchSize,
                LearningRate = parsed.Double("--lr") ?? config.LearningRate,
                Samples = parsed.Int("--samples") ?? config.Samples,
                Width = parsed.Int("--width") ?? config.Width,
                Device = parsed.Value("--device") ?? config.Device ?? "cpu",
            },
            Ranks = ranks,
            Steps = steps,
            Epochs = epochs,
            Threads = parsed.Int("--threads") ?? config.Threads ?? Math.Max(1, Trainer.Runtime.DeterministicRuntime.DefaultThreads / Math.Max(1, ranks)),
            Schedule = new CheckpointSchedule(everySteps, everyEpochs, everySeconds, SaveLast: !parsed.Has("--no-save-last") && (config.SaveLast ?? true)),
            Keep = parsed.Int("--keep") ?? config.Keep ?? 0,
            NameTemplate = parsed.Value("--name-template") ?? config.NameTemplate ?? (everyEpochs is not null ? CheckpointNaming.EpochTemplate : CheckpointNaming.IterationTemplate),
            ResumePath = resume is "auto" or "none" ? null : Path.GetFullPath(resume),
            FreshStart = resume == "none",
            LoadFrom = (parsed.Value("--load-from") ?? config.LoadFrom) is { } loadFrom ? Path.GetFullPath(loadFrom) : null,
            ModelLoad = BuildModelLoad(parsed, config),
            SkipOptimizerState = parsed.Has("--no-optimizer-state") || config.NoOptimizerState == true,
            SkipSchedulerState = parsed.Has("--no-scheduler-state") || config.NoSchedulerState == true,
            Faults = [.. config.InjectFaults ?? [], .. parsed.Values("--inject-fault")],
            StepTimeout = TimeSpan.FromSeconds(parsed.Double("--step-timeout") ?? config.StepTimeout ?? 60),
            Restarts = new RestartPolicy
            {
                MaxRestarts = parsed.Int("--max-restarts") ?? config.MaxRestarts ?? 5,
                Window = TimeSpan.FromSeconds(parsed.Double("--restart-window") ?? config.RestartWindow ?? 600),
                BaseDelay = TimeSpan.FromMilliseconds(parsed.Double("--restart-backoff") ?? config.RestartBackoff ?? 200),
            },
        };
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
            IgnoreKeys = [.. config.IgnoreKeys ?? [], .. parsed.Values("--ignore-keys")],
        };
        return revisions.Length > 0 ? options with { Revisions = revisions } : options;
    }

    private static KeyRevision KeyRevisionOf(string revision)
    {
        var equals = revision.IndexOf('=', StringComparison.Ordinal);
        return equals > 0
            ? new KeyRevision(revision[..equals], revision[(equals + 1)..])
            : throw new UsageException($"--revise-key '{revision}' must be REGEX=REPLACEMENT");
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
