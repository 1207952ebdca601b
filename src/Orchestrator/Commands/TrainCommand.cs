using Orchestrator.Cli.Console;
using Orchestrator.Trainer.Checkpointing;
using Orchestrator.Trainer.Jobs;
using Orchestrator.Trainer.Training;

namespace Orchestrator.Cli.Commands;

/// <summary><c>orchestrator train</c>: runs a built-in job with checkpoints; a rerun in the same work dir resumes.</summary>
internal static class TrainCommand
{
    public const string Help = """
        usage: orchestrator train --job mlp|cnn|charlm --work-dir DIR [options]

          --steps N                    train N steps in all (or --epochs E)
          --epochs E                   train E passes over the data
          --checkpoint-every N         save every N steps (default 100)
          --checkpoint-every-epochs E  save at the end of every E-th epoch
          --checkpoint-every-seconds T save when T seconds have passed since the last save
          --no-save-last               do not save the final state
          --keep K                     keep the newest K checkpoints (default 0: all)
          --name-template T            checkpoint folder names, {n} = step, {epoch} = epoch (default iter_{n})
          --resume auto|none|PATH      auto: newest valid checkpoint in the work dir (default);
                                       none: fresh start; PATH: that checkpoint
          --delete-existing            with --resume none: delete the work dir's checkpoints first
          --load-from PATH             load weights only (fine-tuning); counters and optimizer start fresh
          --no-optimizer-state         on resume, do not restore the optimizer
          --no-scheduler-state         on resume, restart the learning-rate schedule
          --non-strict                 load weights that match, report the rest (missing, unexpected, shapes)
          --remove-prefix P            strip P from saved weight names before matching
          --add-prefix P               prepend P to saved weight names before matching
          --revise-key REGEX=REPL      rewrite saved weight names (default strips 'module.')
          --ignore-keys REGEX          never load model weights whose names match
          --seed S                     seed for initialisation, data and shuffling (default 1)
          --device cpu|cuda[:N]        where to train (default cpu)
          --threads N                  torch intra-op threads (saved in checkpoints; default: cores, at most 8)
          --batch-size N, --lr X, --samples N, --width N   job settings
          --sync-save                  write checkpoints on the training thread (no async save)
          --config FILE                JSON (or HOCON: .conf, .hocon) file with any of the above in camelCase (flags win)
          --quiet                      no progress display
        """;

    private static readonly HashSet<string> ValueOptions =
    [
        "--job", "--work-dir", "--steps", "--epochs", "--checkpoint-every", "--checkpoint-every-epochs", "--checkpoint-every-seconds",
        "--keep", "--name-template", "--resume", "--load-from", "--remove-prefix", "--add-prefix", "--revise-key", "--ignore-keys",
        "--seed", "--device", "--threads", "--batch-size", "--lr", "--samples", "--width", "--config",
    ];

    private static readonly HashSet<string> Switches =
    [
        "--no-save-last", "--delete-existing", "--no-optimizer-state", "--no-scheduler-state", "--non-strict", "--sync-save", "--quiet",
    ];

    public static int Run(IReadOnlyList<string> args)
    {
        var parsed = ParsedArguments.Parse("train", args, ValueOptions, Switches);
        if (parsed.Positionals.Count > 0)
        {
            throw new UsageException($"unexpected argument '{parsed.Positionals[0]}' (orchestrator train --help)");
        }
        var config = parsed.Value("--config") is { } path ? TrainConfigFile.Read(path) : new TrainConfigFile();
        var jobName = parsed.Value("--job") ?? config.Job ?? throw new UsageException("--job is required (mlp, cnn or charlm)");
        var seed = parsed.Long("--seed") ?? config.Seed ?? 1;
        var jobOptions = new BuiltInJobOptions
        {
            Seed = seed,
            BatchSize = parsed.Int("--batch-size") ?? config.BatchSize,
            LearningRate = parsed.Double("--lr") ?? config.LearningRate,
            Samples = parsed.Int("--samples") ?? config.Samples,
            Width = parsed.Int("--width") ?? config.Width,
            Device = parsed.Value("--device") ?? config.Device ?? "cpu",
        };
        var factory = JobCatalog.Factory(jobName, jobOptions);
        var runOptions = BuildRunOptions(parsed, config, seed);
        using var stop = new StopSignals();
        var observer = new ProgressObserver(quiet: parsed.Has("--quiet"));
        var result = TrainingRun.Execute(factory, runOptions, observer, stop.Token);
        observer.Finish();
        System.Console.Out.WriteLine(result.Outcome switch
        {
            RunOutcome.AlreadyComplete => $"already complete at step {result.Iteration}: nothing to do",
            RunOutcome.Interrupted => $"stopped at step {result.Iteration}; checkpoint saved, rerun the same command to continue",
            _ => $"completed {result.Iteration} steps",
        });
        System.Console.Out.WriteLine($"weights-sha256: {result.WeightsSha256}");
        return result.Outcome == RunOutcome.Interrupted ? ExitCodes.Interrupted : ExitCodes.Ok;
    }

    private static RunOptions BuildRunOptions(ParsedArguments parsed, TrainConfigFile config, long seed)
    {
        var workDir = parsed.Value("--work-dir") ?? config.WorkDir ?? throw new UsageException("--work-dir is required");
        var (cliSteps, cliEpochs) = (parsed.Long("--steps"), parsed.Long("--epochs"));
        var (steps, epochs) = cliSteps is not null || cliEpochs is not null ? (cliSteps, cliEpochs) : (config.Steps, config.Epochs);
        if (steps is null && epochs is null)
        {
            steps = 1000;
        }
        var everyEpochs = parsed.Long("--checkpoint-every-epochs") ?? config.CheckpointEveryEpochs;
        var everySeconds = parsed.Double("--checkpoint-every-seconds") ?? config.CheckpointEverySeconds;
        var everySteps = parsed.Long("--checkpoint-every") ?? config.CheckpointEvery ?? (everyEpochs is null && everySeconds is null ? 100 : null);
        var (resume, resumePath) = ParseResume(parsed.Value("--resume") ?? config.Resume ?? "auto");
        return new RunOptions
        {
            WorkDir = workDir,
            Steps = steps,
            Epochs = epochs,
            Seed = seed,
            Threads = parsed.Int("--threads") ?? config.Threads ?? Trainer.Runtime.DeterministicRuntime.DefaultThreads,
            Schedule = new CheckpointSchedule(everySteps, everyEpochs, everySeconds, SaveLast: !parsed.Has("--no-save-last") && (config.SaveLast ?? true)),
            Keep = parsed.Int("--keep") ?? config.Keep ?? 0,
            NameTemplate = parsed.Value("--name-template") ?? config.NameTemplate ?? (everyEpochs is not null ? CheckpointNaming.EpochTemplate : CheckpointNaming.IterationTemplate),
            Resume = resume,
            ResumePath = resumePath,
            LoadFrom = parsed.Value("--load-from") ?? config.LoadFrom,
            ModelLoad = BuildModelLoad(parsed),
            SkipOptimizerState = parsed.Has("--no-optimizer-state"),
            SkipSchedulerState = parsed.Has("--no-scheduler-state"),
            DeleteExisting = parsed.Has("--delete-existing"),
            AsyncSave = !parsed.Has("--sync-save"),
        };
    }

    private static ModelLoadOptions BuildModelLoad(ParsedArguments parsed)
    {
        var options = ModelLoadOptions.Default with
        {
            Strict = !parsed.Has("--non-strict"),
            RemovePrefix = parsed.Value("--remove-prefix"),
            AddPrefix = parsed.Value("--add-prefix"),
            IgnoreKeys = parsed.Value("--ignore-keys") is { } ignore ? [ignore] : [],
        };
        if (parsed.Value("--revise-key") is { } revision)
        {
            var equals = revision.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new UsageException($"--revise-key '{revision}' must be REGEX=REPLACEMENT");
            }
            options = options with { Revisions = [new KeyRevision(revision[..equals], revision[(equals + 1)..])] };
        }
        return options;
    }

    private static (ResumeMode Mode, string? Path) ParseResume(string value) => value switch
    {
        "auto" => (ResumeMode.Auto, null),
        "none" => (ResumeMode.None, null),
        _ => (ResumeMode.Path, value),
    };
}
