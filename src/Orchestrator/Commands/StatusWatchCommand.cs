using System.Globalization;
using Orchestrator.Actors.Persistence;
using Orchestrator.Cli.Terminal;
using Orchestrator.Cli.Terminal.Watch;

namespace Orchestrator.Cli.Commands;

/// <summary>
/// <c>orchestrator status --watch</c>: the status redrawn until the job ends, for a job in a work dir (from
/// its journal and TensorBoard files) or for a cluster (from its coordinator). A terminal gets a live view;
/// a file, a pipe or a CI log gets one plain line per change.
/// </summary>
internal static class StatusWatchCommand
{
    private static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(1);
    private const double MinimumSeconds = 0.05;
    private const double MaximumSeconds = 3600;

    public static int Run(ParsedArguments parsed)
    {
        var interval = Interval(parsed);
        var workDir = parsed.Value("--work-dir") is { } dir ? WorkDirCheck.FullPath("--work-dir", dir) : null;
        var cluster = parsed.Value("--cluster");
        using var source = (workDir, cluster) switch
        {
            (null, null) => throw new UsageException("--watch needs --work-dir DIR (a job in a work dir) or --cluster HOST:PORT (a cluster's nodes and jobs)"),
            (_, { } hostPort) when parsed.Value("--journal") is not null =>
                throw new UsageException($"--journal is for a work dir's job; with --cluster {hostPort} the coordinator answers (drop --journal)"),
            (_, { } hostPort) => new ClusterWatchSource(Cluster.ClusterOptions.HostPort("--cluster", hostPort), Cluster.ClusterOptions.Secret(parsed), workDir, LiveWatchLayout.LossesKept),
            ({ } local, null) => WorkDir(local, parsed.Value("--journal")),
        };
        using var interrupt = new StopSignals(announce: false);
        return WatchLoop.TerminalCanRedraw
            ? WatchLoop.Live(source, interval, interrupt.Token)
            : WatchLoop.Plain(source, interval, Console.Out, interrupt.Token);
    }

    private static IWatchSource WorkDir(string workDir, string? journalText)
    {
        var journal = JournalSettings.Parse(journalText, workDir);
        journal.CheckReachable();
        return new WorkDirWatchSource(workDir, journal, LiveWatchLayout.LossesKept);
    }

    private static TimeSpan Interval(ParsedArguments parsed)
    {
        if (parsed.Double("--interval") is not { } seconds)
        {
            return DefaultInterval;
        }
        return seconds is >= MinimumSeconds and <= MaximumSeconds
            ? TimeSpan.FromSeconds(seconds)
            : throw new UsageException(string.Create(CultureInfo.InvariantCulture,
                $"--interval {seconds} is out of range: give seconds between {MinimumSeconds} and {MaximumSeconds} (e.g. --interval 0.5)"));
    }
}
