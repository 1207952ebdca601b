using System.Text.RegularExpressions;
using Orchestrator.Tests.Support;

namespace Orchestrator.Tests.Cli;

/// <summary>After kill -9 and reruns, history, status and plot count the same failures and recoveries.</summary>
public sealed partial class InterruptionCountsTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void A_job_killed_twice_and_rerun_has_the_same_counts_in_history_status_and_plot()
    {
        var dir = _temp.Sub("run");
        var train = CliProcess.Train("mlp", dir, 30, every: 10, "--quiet");
        foreach (var killAt in new[] { "step:15", "step:25" })
        {
            var killed = CliProcess.Run(train, new Dictionary<string, string> { ["ORCHESTRATOR_KILL_AT"] = killAt });
            Assert.True(killed.ExitCode == 137, killed.ToString());
        }
        Assert.Equal(0, CliProcess.Run(train).ExitCode);

        var history = CliProcess.Run(["history", "--work-dir", dir]);
        var status = CliProcess.Run(["status", "--work-dir", dir]);
        var plot = CliProcess.Run(["plot", "--work-dir", dir, "--out", _temp.Sub("plot.svg")]);

        Assert.Contains("2 failure(s), 2 restart(s)", history.Output);
        Assert.Contains("(0 rank failure(s) with 0 restart(s) in the process, 2 process interruption(s) with 2 resume(s) by a rerun)", history.Output);
        Assert.Equal(2, history.Output.Split('\n').Count(l => l.Contains("  interrupted     the process ", StringComparison.Ordinal)));
        Assert.Contains("failures:   2 failure(s), 2 restart(s)", status.Output);
        var plotted = PlotCounts().Match(plot.Output);
        Assert.True(plotted.Success, plot.ToString());
        Assert.Equal(("2", "2"), (plotted.Groups[1].Value, plotted.Groups[2].Value));
        Assert.Equal(HistoryTotals().Match(history.Output).Value, HistoryTotals().Match(status.Output).Value);
    }

    [GeneratedRegex(@"(\d+) failures?, (\d+) resumes?")]
    private static partial Regex PlotCounts();

    [GeneratedRegex(@"\d+ failure\(s\), \d+ restart\(s\), \d+ step\(s\) redone \(.*\)")]
    private static partial Regex HistoryTotals();
}
