using System.Globalization;
using System.Text.RegularExpressions;
using Orchestrator.Tests.Support;

namespace Orchestrator.Tests.Plots;

/// <summary>
/// One real two-rank mlp job, trained once for all the plot tests: a rank crash at step 120 (restart in
/// the process) and a kill of the whole process at step 230 (the same command run again resumes), with a
/// checkpoint every 50 steps. <see cref="Expected"/> is what its <c>history</c> says happened.
/// </summary>
public sealed partial class FaultedRun : IDisposable
{
    public const int Steps = 300;
    private readonly TempDirectory _temp = new();

    public FaultedRun()
    {
        WorkDir = _temp.Sub("faulted");
        string[] train = [.. CliProcess.Train("mlp", WorkDir, Steps, every: 50, more:
            ["--ranks", "2", "--inject-fault", "crash@step=120,rank=1", "--inject-fault", "kill-process@step=230", "--restart-backoff", "20"])];
        var killed = CliProcess.Run(train);
        Assert.True(killed.ExitCode == 137, killed.ToString());
        var resumed = CliProcess.Run(train);
        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        var history = CliProcess.Run(["history", "--work-dir", WorkDir]);
        Assert.True(history.ExitCode == 0, history.ToString());
        History = history.Output;
        Expected = JournalCounts.FromHistory(History);
    }

    public string WorkDir { get; }

    public string History { get; }

    public JournalCounts Expected { get; }

    public string Sub(string name) => _temp.Sub(name);

    public void Dispose() => _temp.Dispose();

    /// <summary>
    /// Counted from <c>history</c> lines, independently of the plot code: checkpoints by distinct step,
    /// failures as ranks failed plus processes killed, resumes as every start of ranks after the first, and
    /// the steps redone by restarts (from the journal) and by reruns (the kill's step back to the rerun's start).
    /// </summary>
    public sealed partial record JournalCounts(int Checkpoints, int Failures, int Resumes, long StepsRedone, IReadOnlyList<long> FailureSteps, IReadOnlyList<long> CheckpointSteps)
    {
        public static JournalCounts FromHistory(string history)
        {
            var lines = history.Split('\n').Select(l => l.Length > 25 ? l[25..].Trim() : "").ToList();
            var checkpointSteps = lines.Select(l => CheckpointLine().Match(l)).Where(m => m.Success).Select(m => Long(m.Groups[1])).Distinct().Order().ToList();
            var failureSteps = new List<long>();
            long redone = 0;
            for (var i = 0; i < lines.Count; i++)
            {
                if (RankFailedLine().Match(lines[i]) is { Success: true } failed)
                {
                    failureSteps.Add(Long(failed.Groups[1]));
                }
                if (RestartLine().Match(lines[i]) is { Success: true } restart)
                {
                    redone += Long(restart.Groups[1]);
                }
                if (KillLine().Match(lines[i]) is { Success: true } kill)
                {
                    var killStep = Long(kill.Groups[1]);
                    failureSteps.Add(killStep);
                    var rerun = lines.Skip(i + 1).Select(l => RanksStartedLine().Match(l)).First(m => m.Success);
                    redone += killStep - 1 - Long(rerun.Groups[1]);
                }
            }
            var starts = lines.Count(l => l.StartsWith("ranks started", StringComparison.Ordinal));
            return new JournalCounts(checkpointSteps.Count, failureSteps.Count, starts - 1, redone, failureSteps, checkpointSteps);
        }

        public string SummaryLine(int steps, string output) =>
            $"plotted {steps} steps, {Checkpoints} checkpoints, {Failures} failures, {Resumes} resumes ({StepsRedone} steps redone) -> {output}";

        private static long Long(Group g) => long.Parse(g.Value, CultureInfo.InvariantCulture);

        [GeneratedRegex(@"^checkpoint +\S+ \(\w+\) at step (\d+)")]
        private static partial Regex CheckpointLine();

        [GeneratedRegex(@"^rank failed +rank \d+ at step (\d+)")]
        private static partial Regex RankFailedLine();

        [GeneratedRegex(@"^restart .* (\d+) step\(s\) redone")]
        private static partial Regex RestartLine();

        [GeneratedRegex(@"^fault injected +kill-process@step=(\d+)")]
        private static partial Regex KillLine();

        [GeneratedRegex(@"^ranks started .* at step (\d+)")]
        private static partial Regex RanksStartedLine();
    }
}
