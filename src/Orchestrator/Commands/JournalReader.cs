using Akka.Actor;
using Orchestrator.Actors.Hosting;
using Orchestrator.Actors.Job;
using Orchestrator.Actors.Persistence;
using Orchestrator.Cli.Terminal;

namespace Orchestrator.Cli.Commands;

/// <summary>Reads a work dir's job journal (all events, snapshots ignored) for history and status.</summary>
internal static class JournalReader
{
    public static readonly HashSet<string> ValueOptions = ["--work-dir", "--journal"];

    public static (string WorkDir, JobHistory History) Read(string command, IReadOnlyList<string> args)
    {
        var parsed = ParsedArguments.Parse(command, args, ValueOptions, new HashSet<string>());
        var workDir = WorkDirCheck.FullPath("--work-dir", parsed.Value("--work-dir") ?? throw new UsageException($"--work-dir is required (orchestrator {command} --work-dir DIR)"));
        return (workDir, Read(workDir, parsed.Value("--journal")));
    }

    /// <summary>For commands with options of their own: the work dir and <c>--journal</c> value already parsed.</summary>
    public static JobHistory Read(string workDir, string? journalOption)
    {
        var journal = JournalSettings.Parse(journalOption, workDir);
        journal.CheckReachable();
        if (journal.SqliteFile is { } file)
        {
            WorkDirCheck.RequireReadableFile(file, "journal");
        }
        if (journal.SqliteFile is { } absent && !File.Exists(absent))
        {
            WorkDirCheck.RequireReadableWorkDir(Path.GetDirectoryName(absent)!);
            throw new UsageException($"no job journal at {absent} (run 'orchestrator train --work-dir {workDir} ...' first, or name a cluster's journal with --journal sqlite:FILE)");
        }
        JournalFailureReport.RequireReadable(journal);
        using var loggers = TerminalLog.ForLocalCommand();
        using var system = OrchestratorActorSystem.Named("orchestrator-reader")
            .WithHocon(AkkaLogging.ForLocalCommand)
            .WithJournal(journal)
            .WithLoggerFactory(loggers)
            .Build();
        var failures = JournalFailureReport.ListenOn(system);
        var reader = system.ActorOf(JobHistoryReader.Props(JobSupervisor.PersistenceIdFor(workDir)));
        var answer = reader.Ask<JobHistory>(ReadHistory.Instance, TimeSpan.FromSeconds(60));
        // A reader whose recovery fails stops; its answer would never come.
        Task.WaitAny(answer, reader.WatchAsync());
        if (!answer.IsCompletedSuccessfully)
        {
            var failed = failures.Published();
            system.Terminate().Wait(TimeSpan.FromSeconds(10));
            throw new JournalFailedException(failed is { Problem: JournalProblem.Damaged }
                ? JournalFailureReport.ReadingMessage(JournalFailureReport.NameOf(journal), failed.Detail)
                : $"cannot read {JournalFailureReport.NameOf(journal)} ({failed?.Detail ?? answer.Exception?.GetBaseException().Message ?? "its reader stopped"})");
        }
        var history = answer.Result;
        system.Terminate().Wait(TimeSpan.FromSeconds(10));
        if (history.Events.Count == 0)
        {
            throw new UsageException($"the journal has no job for {workDir}");
        }
        return history;
    }
}
