using Akka.Actor;
using Orchestrator.Actors.Job;
using Orchestrator.Actors.Persistence;

namespace Orchestrator.Cli.Commands;

/// <summary>Reads a work dir's job journal (all events, snapshots ignored) for history and status.</summary>
internal static class JournalReader
{
    public static readonly HashSet<string> ValueOptions = ["--work-dir", "--journal"];

    public static (string WorkDir, JobHistory History) Read(string command, IReadOnlyList<string> args)
    {
        var parsed = ParsedArguments.Parse(command, args, ValueOptions, new HashSet<string>());
        return Read(command, parsed.Value("--work-dir"), parsed.Value("--journal"));
    }

    /// <summary>For a command that parsed its own options (status, which has more than these).</summary>
    public static (string WorkDir, JobHistory History) Read(string command, string? workDirOption, string? journalOption)
    {
        var workDir = Path.GetFullPath(workDirOption ?? throw new UsageException($"--work-dir is required (orchestrator {command} --work-dir DIR)"));
        var journal = JournalSettings.Parse(journalOption, workDir);
        journal.CheckReachable();
        if (journal.SqliteFile is { } file && !File.Exists(file))
        {
            throw new UsageException($"no job journal at {file} (run 'orchestrator train --work-dir {workDir} ...' first, or name a cluster's journal with --journal sqlite:FILE)");
        }
        using var system = OrchestratorSystem.Create("orchestrator-reader", journal);
        var reader = system.ActorOf(JobHistoryReader.Props(JobSupervisor.PersistenceIdFor(workDir)));
        var history = reader.Ask<JobHistory>(ReadHistory.Instance, TimeSpan.FromSeconds(60)).GetAwaiter().GetResult();
        system.Terminate().Wait(TimeSpan.FromSeconds(10));
        if (history.Events.Count == 0)
        {
            throw new UsageException($"the journal has no job for {workDir}");
        }
        return (workDir, history);
    }
}
