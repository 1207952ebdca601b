using System.Text.RegularExpressions;
using Orchestrator.Tests.Support;

namespace Orchestrator.Tests.Cli;

/// <summary>
/// <c>status --watch</c> against a real training process, with output redirected as in CI: plain lines, one
/// per change, no escape codes, and the job's exit code once it ends.
/// </summary>
public sealed partial class WatchTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task Watch_of_a_work_dir_shows_steps_rising_then_exits_0_when_the_job_completes()
    {
        var dir = WorkDir();
        using var watch = await StartWatchAsync(dir);

        // Wide enough for a few seconds of steps, so the watch sees the job between its start and its end.
        var train = CliProcess.Run(CliProcess.Train("mlp", dir, 600, every: 200, more: ["--width", "512", "--quiet"]));

        Assert.True(train.ExitCode == 0, train.ToString());
        Assert.Equal(0, watch.WaitForExit(TimeSpan.FromMinutes(1)));
        var lines = Lines(watch);
        var steps = lines.Select(l => StepOf().Match(l)).Where(m => m.Success).Select(m => long.Parse(m.Groups[1].Value)).ToList();
        Assert.True(steps.Distinct().Count() >= 2, $"expected several steps:\n{watch.Text}");
        Assert.Equal(steps.Order(), steps);
        Assert.Matches(@"^\d\d:\d\d:\d\d completed step 600/600 loss \d+\.\d{4} ckpt iter_600 \(\d+ s ago\) restarts 0 failures 0$", lines[^1]);
        Assert.DoesNotContain('\u001b', watch.Text);
    }

    [Fact]
    public async Task Watch_shows_the_restart_after_an_injected_crash_and_exits_0()
    {
        var dir = WorkDir();
        using var watch = await StartWatchAsync(dir);

        var train = CliProcess.Run(CliProcess.Train("mlp", dir, 300, every: 100,
            more: ["--quiet", "--inject-fault", "crash@step=150,rank=0", "--restart-backoff", "20"]));

        Assert.True(train.ExitCode == 0, train.ToString());
        Assert.Equal(0, watch.WaitForExit(TimeSpan.FromMinutes(1)));
        var last = Lines(watch)[^1];
        Assert.Contains("completed step 300/300", last);
        Assert.EndsWith("restarts 1 failures 1", last);
        Assert.DoesNotContain('\u001b', watch.Text);
    }

    [Fact]
    public void Watch_needs_a_work_dir_or_a_cluster() =>
        AssertRefused(["status", "--watch"], "error: --watch needs --work-dir DIR (a job in a work dir) or --cluster HOST:PORT (a cluster's nodes and jobs)");

    [Theory]
    [InlineData("0", "error: --interval 0 is out of range: give seconds between 0.05 and 3600 (e.g. --interval 0.5)")]
    [InlineData("-1", "error: --interval -1 is out of range: give seconds between 0.05 and 3600 (e.g. --interval 0.5)")]
    [InlineData("soon", "error: --interval 'soon' is not a number (orchestrator status --help)")]
    public void Watch_with_a_bad_interval_is_refused(string interval, string error) =>
        AssertRefused(["status", "--work-dir", _temp.Path, "--watch", "--interval", interval], error);

    [Fact]
    public void Interval_without_watch_is_refused() =>
        AssertRefused(["status", "--work-dir", _temp.Path, "--interval", "1"], "error: --interval goes with --watch (orchestrator status --work-dir DIR --watch --interval S)");

    [Fact]
    public void A_journal_with_a_cluster_is_refused() =>
        AssertRefused(["status", "--cluster", "127.0.0.1:4053", "--watch", "--journal", "sqlite"],
            "error: --journal is for a work dir's job; with --cluster 127.0.0.1:4053 the coordinator answers (drop --journal)");

    private string WorkDir()
    {
        // Made here so the watch can start first: it waits for the journal that train creates.
        var dir = _temp.Sub("run");
        Directory.CreateDirectory(dir);
        return dir;
    }

    // The watch is started first and awaited until it is polling, so it sees the job from its first step.
    private static async Task<NodeProcess> StartWatchAsync(string dir)
    {
        var watch = NodeProcess.StartClient(["status", "--work-dir", dir, "--watch", "--interval", "0.2"]);
        await watch.WaitForLineAsync(l => l.Contains($"waiting for the job in {dir}", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
        return watch;
    }

    private static List<string> Lines(NodeProcess watch) =>
        watch.Text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();

    private static void AssertRefused(string[] args, string error)
    {
        var result = CliProcess.Run(args);
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Equal(error, result.Error.Trim());
    }

    [GeneratedRegex(@" running step (\d+)/")]
    private static partial Regex StepOf();
}
