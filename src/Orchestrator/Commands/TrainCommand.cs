using Akka.Actor;
using Orchestrator.Actors.Hosting;
using Orchestrator.Actors.Job;
using Orchestrator.Actors.Persistence;
using Orchestrator.Cli.Terminal;
using Orchestrator.Trainer.Checkpointing;
using Orchestrator.Trainer.Jobs;

namespace Orchestrator.Cli.Commands;

/// <summary>
/// <c>orchestrator train</c>: runs a built-in job through the actor runtime (R ranks under a supervisor
/// with a journal); a rerun in the same work dir resumes.
/// </summary>
internal static class TrainCommand
{
    public const string Help = """
        usage: orchestrator train --job mlp|cnn|charlm --work-dir DIR [options]
               orchestrator train --job-assembly PATH.dll --job NAME --work-dir DIR [--job-arg KEY=VALUE ...] [options]

          --job-assembly PATH          your job library's .dll; --job names a job it defines (IJobDefinition)
          --job-arg KEY=VALUE          an argument for the job (context.Args); repeatable
          --steps N                    train N steps in all (or --epochs E)
          --epochs E                   train E passes over the data
          --ranks R                    data-parallel ranks (default 1); the batch is split between them
          --checkpoint-every N         save every N steps (default 100)
          --checkpoint-every-epochs E  save at the end of every E-th epoch
          --checkpoint-every-seconds T save when T seconds have passed since the last save
          --no-save-last               do not save the final state
          --keep K                     keep the newest K checkpoints (default 0: all)
          --name-template T            checkpoint folder names, {n} = step, {epoch} = epoch (default iter_{n})
          --resume auto|none|PATH      auto: newest valid checkpoint in the work dir (default);
                                       none: fresh start; PATH: that checkpoint
          --delete-existing            with --resume none: delete the work dir's checkpoints and journal first
          --load-from PATH             load weights only (fine-tuning); counters and optimizer start fresh;
                                       PATH: a checkpoint folder, or a PyTorch state_dict (.safetensors, .pt, .pth, .bin)
          --no-optimizer-state         on resume, do not restore the optimizer
          --no-scheduler-state         on resume, restart the learning-rate schedule
          --non-strict                 load weights that match, report the rest (missing, unexpected, shapes)
          --remove-prefix P            strip P from saved weight names before matching
          --add-prefix P               prepend P to saved weight names before matching
          --revise-key REGEX=REPL      rewrite saved weight names, in order (default strips 'module.'); repeatable
          --ignore-keys REGEX          never load model weights whose names match; repeatable
          --seed S                     seed for initialisation, data and shuffling (default 1)
          --device cpu|cuda[:N]        where to train (default cpu)
          --threads N                  torch intra-op threads, 1 to 1024 (saved in checkpoints; default: cores / ranks)
          --batch-size N, --lr X, --samples N, --width N   job settings (the batch is the global batch); a job
                                       of your own reads them as the job arguments batchSize, learningRate,
                                       samples and width
          --step-timeout S             a rank that takes longer than S seconds for a step is hung (default 60)
          --gradient-dtype D           fp32|bf16|fp16: averaged gradients travel at this precision, summed in fp32 (default fp32)
          --max-restarts M             at most M restarts within --restart-window (default 5)
          --restart-window S           the sliding window for --max-restarts, seconds (default 600)
          --restart-backoff MS         first restart delay, doubled for each further one (default 200)
          --inject-fault F             crash|hang|nan@step=N[,rank=R] or kill-process@step=N; repeatable
          --journal J                  sqlite (default: journal.db in the work dir) or postgres:CONNECTION
          --metrics-port P             serve Prometheus metrics on http://127.0.0.1:P/metrics while training
          --config FILE                JSON (or HOCON: .conf, .hocon) file with any of the above in camelCase (flags win);
                                       jobArgs is an object of KEY: VALUE, reviseKey and ignoreKeys lists
          --quiet                      no progress display
        """;

    internal static readonly HashSet<string> ValueOptions =
    [
        "--job", "--work-dir", "--steps", "--epochs", "--ranks", "--checkpoint-every", "--checkpoint-every-epochs", "--checkpoint-every-seconds",
        "--keep", "--name-template", "--resume", "--load-from", "--remove-prefix", "--add-prefix", "--revise-key", "--ignore-keys",
        "--seed", "--device", "--threads", "--batch-size", "--lr", "--samples", "--width", "--config",
        "--step-timeout", "--gradient-dtype", "--max-restarts", "--restart-window", "--restart-backoff", "--inject-fault", "--journal", "--metrics-port",
        "--job-assembly", "--job-arg",
    ];

    internal static readonly HashSet<string> Repeatable = ["--inject-fault", "--job-arg", "--revise-key", "--ignore-keys"];

    internal static readonly HashSet<string> Switches =
    [
        "--no-save-last", "--delete-existing", "--no-optimizer-state", "--no-scheduler-state", "--non-strict", "--quiet",
    ];

    public static int Run(IReadOnlyList<string> args)
    {
        var parsed = ParsedArguments.Parse("train", args, ValueOptions, Switches, Repeatable);
        if (parsed.Positionals.Count > 0)
        {
            throw new UsageException($"unexpected argument '{parsed.Positionals[0]}' (orchestrator train --help)");
        }
        var config = parsed.Value("--config") is { } path ? TrainConfigFile.Read(path) : new TrainConfigFile();
        var spec = JobSpecValidator.Validate(TrainSpecBuilder.BuildToRunHere(parsed, config));
        var stopDeadline = StopDeadline.For(spec, Environment.GetEnvironmentVariable(StopDeadline.Variable));
        var journal = JournalSettings.Parse(parsed.Value("--journal") ?? config.Journal, spec.WorkDir);
        journal.CheckReachable();
        // Owned before anything in the work dir is touched: a second run or a --delete-existing is refused whole.
        using var owner = JournalFailureReport.NamingFullDisk(spec.WorkDir, spec, () => WorkDirLock.TryAcquire(spec.WorkDir, WorkDirLock.ThisProcess("orchestrator train")))
            ?? throw new UsageException(WorkDirLock.Refusal(spec.WorkDir, "train"));
        if (spec.FreshStart && (parsed.Has("--delete-existing") || config.DeleteExisting == true))
        {
            DeleteExisting(spec, journal);
        }
        JournalFailureReport.RequireIntact(journal, spec);
        JournalFailureReport.NamingFullDisk(spec.WorkDir, spec, () => WorkDirJournalId.Establish(spec.WorkDir, spec.CheckpointDirectory));
        JournalFailureReport.RequireWritable(journal, spec);

        using var metrics = MetricsEndpoint.Start(parsed.Int("--metrics-port") ?? config.MetricsPort);
        var observer = new ProgressObserver(quiet: parsed.Has("--quiet"));
        using var loggers = TerminalLog.ForLocalCommand();
        using var system = OrchestratorActorSystem.Named("orchestrator")
            .WithHocon(AkkaLogging.ForLocalCommand)
            .WithJournal(journal)
            .WithLoggerFactory(loggers)
            .Build();
        var journalFailures = JournalFailureReport.ListenOn(system);
        var reporter = system.ActorOf(ConsoleReporter.Props(observer), "console");
        var supervisor = system.ActorOf(JobSupervisor.Props(spec, reporter), "job");
        using var stop = new StopSignals(() => supervisor.Tell(StopJob.Instance), deadline: stopDeadline);
        var finished = AwaitFinish(supervisor, journalFailures, journal, spec);
        system.Terminate().Wait(TimeSpan.FromSeconds(30));
        observer.Finish();
        if (finished.Outcome is JobOutcome.Refused)
        {
            throw new UsageException(finished.Message);
        }
        if (finished.Outcome is JobOutcome.Failed)
        {
            Console.Error.WriteLine($"error: {finished.Message}");
            return ExitCodes.Failed;
        }
        Console.Out.WriteLine(finished.Message);
        if (!string.IsNullOrEmpty(finished.WeightsSha256))
        {
            Console.Out.WriteLine($"weights-sha256: {finished.WeightsSha256}");
        }
        return finished.Outcome == JobOutcome.Stopped ? ExitCodes.Interrupted : ExitCodes.Ok;
    }

    // The supervisor answers when the job ends; if it dies instead (its journal failed), say why.
    private static JobFinished AwaitFinish(IActorRef supervisor, JournalFailureReport journalFailures, JournalSettings journal, JobSpec spec)
    {
        var answer = supervisor.Ask<JobFinished>(RunJob.Instance, Timeout.InfiniteTimeSpan);
        var death = supervisor.WatchAsync();
        Task.WaitAny(answer, death);
        if (answer.IsCompletedSuccessfully)
        {
            return answer.Result;
        }
        var message = journalFailures.Published() is { } failed
            ? JournalFailureReport.ForTrain(failed, journal, spec)
            : "the job supervisor stopped unexpectedly (is the journal reachable and writable?)";
        return new JobFinished(JobOutcome.Failed, 0, null, message);
    }

    private static void DeleteExisting(JobSpec spec, JournalSettings journal)
    {
        var deleted = new CheckpointStore(spec.CheckpointDirectory, new CheckpointNaming(spec.NameTemplate)).DeleteAll();
        if (journal.ProviderName == JournalSettings.SqliteProvider)
        {
            foreach (var file in Directory.Exists(spec.WorkDir) ? Directory.GetFiles(spec.WorkDir, "journal.db*") : [])
            {
                File.Delete(file);
            }
        }
        WorkDirJournalId.Delete(spec.WorkDir);
        Console.Error.WriteLine($"deleted {deleted} existing checkpoint(s) (--delete-existing)");
    }
}
