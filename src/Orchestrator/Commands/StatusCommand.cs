using System.Globalization;
using Orchestrator.Actors.Job;

namespace Orchestrator.Cli.Commands;

/// <summary><c>orchestrator status --work-dir DIR</c>: the job's state in a few lines, read from its journal.</summary>
internal static class StatusCommand
{
    public const string Help = """
        usage: orchestrator status --work-dir DIR [--journal sqlite|sqlite:FILE|postgres:CONNECTION]
               orchestrator status --cluster HOST:PORT [--secret-file FILE]     nodes, their health and devices, and every job
               orchestrator status --work-dir DIR --watch [--journal J] [--interval S]
               orchestrator status --cluster HOST:PORT [--secret-file FILE] --watch [--work-dir DIR] [--interval S]

        Shows the job's state, step, loss, last checkpoint and its age, failures and restarts.

          --watch       redraw until the job ends (exit code as for train: 0 done, 1 failed, 130 stopped),
                        or until Ctrl-C (130; the job goes on): state, step and ETA, a loss sparkline,
                        steps/s, checkpoint age, restarts, and a cluster's nodes with their ranks. On a
                        terminal a live view; redirected (a file, CI), one plain line per change
          --interval S  seconds between refreshes with --watch (default 1)
          --work-dir    with --cluster --watch: follow that job and exit when it ends
          --secret-file with --cluster: the cluster secret, as the nodes have it (env ORCHESTRATOR_SECRET)
        """;

    private static readonly HashSet<string> ValueOptions = ["--work-dir", "--journal", "--cluster", "--interval", "--secret-file"];
    private static readonly HashSet<string> Switches = ["--watch"];

    public static int Run(IReadOnlyList<string> args)
    {
        var parsed = ParsedArguments.Parse("status", args, ValueOptions, Switches);
        if (parsed.Positionals.Count > 0)
        {
            throw new UsageException($"unexpected argument '{parsed.Positionals[0]}' (orchestrator status --help)");
        }
        if (parsed.Has("--watch"))
        {
            return StatusWatchCommand.Run(parsed);
        }
        if (parsed.Value("--interval") is not null)
        {
            throw new UsageException("--interval goes with --watch (orchestrator status --work-dir DIR --watch --interval S)");
        }
        if (parsed.Value("--cluster") is { } cluster)
        {
            return parsed.Value("--work-dir") is null && parsed.Value("--journal") is null
                ? Cluster.ClusterCommands.Status(Cluster.ClusterOptions.HostPort("--cluster", cluster), Cluster.ClusterOptions.Secret(parsed))
                : throw new UsageException("status --cluster HOST:PORT takes no other options except --secret-file and --watch");
        }
        if (parsed.Value("--secret-file") is not null)
        {
            throw new UsageException("--secret-file goes with --cluster (a work dir's status reads its journal)");
        }
        var workDir = WorkDirCheck.FullPath("--work-dir", parsed.Value("--work-dir") ?? throw new UsageException("--work-dir is required (orchestrator status --work-dir DIR)"));
        var history = JournalReader.Read(workDir, parsed.Value("--journal"));
        var state = history.State;
        var spec = state.Spec!;
        var last = state.LastCheckpoint;
        var lastEvent = history.Events[^1];
        Console.WriteLine($"job:        {spec.Job} in {workDir}");
        Console.WriteLine($"state:      {state.Status.ToString().ToLowerInvariant()}{(state.FailureReason is { } reason ? $" ({reason})" : "")}");
        Console.WriteLine($"step:       {state.Step} of {(spec.Steps is { } steps ? steps.ToString(CultureInfo.InvariantCulture) : $"{spec.Epochs} epochs")}");
        Console.WriteLine($"ranks:      {spec.Ranks}");
        Console.WriteLine(last is null
            ? "checkpoint: none yet"
            : string.Create(CultureInfo.InvariantCulture, $"checkpoint: {last.Name} at step {last.Step}, loss {HistoryCommand.LossOf(last)}, {Age(last.At)} ago"));
        Console.WriteLine($"failures:   {HistoryCommand.Totals(JobInterruptions.Of(history.Events))}");
        Console.WriteLine($"last event: {HistoryCommand.Describe(lastEvent).Trim()} ({Age(lastEvent.At)} ago)");
        if (state.FinalWeightsSha256 is { } digest)
        {
            Console.WriteLine($"weights-sha256: {digest}");
        }
        return ExitCodes.Ok;
    }

    private static string Age(DateTimeOffset at)
    {
        var age = DateTimeOffset.UtcNow - at;
        return age.TotalSeconds < 120 ? $"{age.TotalSeconds:0}s" : age.TotalMinutes < 120 ? $"{age.TotalMinutes:0}m" : $"{age.TotalHours:0.0}h";
    }
}
