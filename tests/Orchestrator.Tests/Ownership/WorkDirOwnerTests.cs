using Orchestrator.Tests.Support;

namespace Orchestrator.Tests.Ownership;

/// <summary>
/// One owner per work dir: a second train and a --delete-existing are refused while a job runs, in one line
/// naming the owner, and touch nothing; the owner's lock dies with it; reading commands work beside it.
/// </summary>
public sealed class WorkDirOwnerTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Two_trains_started_together_one_runs_to_the_uninterrupted_weights_and_the_other_is_refused_naming_its_pid()
    {
        const int Steps = 3000;
        var straight = ReferenceRuns.WeightsSha256("mlp", Steps);
        var dir = _temp.Sub("shared");
        using var first = CliProcess.Start(CliProcess.Train("mlp", dir, Steps, every: 100));
        using var second = CliProcess.Start(CliProcess.Train("mlp", dir, Steps, every: 100));
        var results = new[] { first.WaitForExit(), second.WaitForExit() };
        var ids = new[] { first.Id, second.Id };

        var winner = Array.FindIndex(results, r => r.ExitCode == 0);
        Assert.True(winner >= 0, string.Join("\n---\n", results.Select(r => r.ToString())));
        var refused = results[1 - winner];
        Assert.True(refused.ExitCode == 2, refused.ToString());
        var line = Assert.Single(refused.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains($"in use by orchestrator train (pid {ids[winner]} on host {Environment.MachineName}", line);
        Assert.Equal(straight, results[winner].WeightsSha256);
    }

    [Fact]
    public async Task Delete_existing_while_a_job_runs_is_refused_and_deletes_nothing()
    {
        var dir = _temp.Sub("running");
        using var running = CliProcess.Start(CliProcess.Train("mlp", dir, 1_000_000, every: 50));
        await running.WaitForLineAsync(line => line.StartsWith("checkpoint iter_50", StringComparison.Ordinal));
        var journalBytes = new FileInfo(Path.Combine(dir, "journal.db")).Length;

        var delete = CliProcess.Run(CliProcess.Train("mlp", dir, 100, 50, "--resume", "none", "--delete-existing"));

        Assert.True(delete.ExitCode == 2, delete.ToString());
        var line = Assert.Single(delete.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains($"(pid {running.Id} on host", line);
        Assert.DoesNotContain("deleted", delete.Error);
        Assert.True(Directory.Exists(Path.Combine(dir, "checkpoints", "iter_50")));
        Assert.True(new FileInfo(Path.Combine(dir, "journal.db")).Length >= journalBytes);
        StopAndExpectACheckpoint(running);
        Assert.Equal(0, CliProcess.Run(["checkpoints", "verify", dir]).ExitCode);
    }

    [Fact]
    public async Task After_kill_9_of_the_owner_a_rerun_takes_the_work_dir_and_resumes_exactly()
    {
        const int Steps = 1500;
        var straight = ReferenceRuns.WeightsSha256("mlp", Steps);
        var dir = _temp.Sub("killed");
        using (var running = CliProcess.Start(CliProcess.Train("mlp", dir, Steps, every: 7)))
        {
            await running.WaitForLineAsync(line => line.StartsWith("checkpoint ", StringComparison.Ordinal));
            running.KillHard();
            Assert.Equal(137, running.WaitForExit().ExitCode);
        }
        Assert.True(File.Exists(Path.Combine(dir, ".orchestrator.lock"))); // the file stays; its lock died with the process

        var resumed = CliProcess.Run(CliProcess.Train("mlp", dir, Steps, every: 7));

        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.Contains("resumed from iter_", resumed.Error);
        Assert.Equal(straight, resumed.WeightsSha256);
    }

    [Fact]
    public async Task Status_history_plot_and_checkpoints_work_beside_a_running_job()
    {
        var dir = _temp.Sub("running");
        using var running = CliProcess.Start(CliProcess.Train("mlp", dir, 1_000_000, every: 50));
        await running.WaitForLineAsync(line => line.StartsWith("checkpoint iter_100", StringComparison.Ordinal));

        var status = CliProcess.Run(["status", "--work-dir", dir]);
        var history = CliProcess.Run(["history", "--work-dir", dir]);
        var plot = CliProcess.Run(["plot", "--work-dir", dir, "--out", _temp.Sub("plot.svg")]);
        var list = CliProcess.Run(["checkpoints", "list", dir]);
        var verify = CliProcess.Run(["checkpoints", "verify", Path.Combine(dir, "checkpoints", "iter_50")]);
        var inspect = CliProcess.Run(["checkpoints", "inspect", Path.Combine(dir, "checkpoints", "iter_50")]);

        foreach (var result in new[] { status, history, plot, list, verify, inspect })
        {
            Assert.True(result.ExitCode == 0, result.ToString());
        }
        Assert.Contains("submitted", history.Output);
        Assert.Contains("iter_50", list.Output);
        StopAndExpectACheckpoint(running);
    }

    // SIGTERM ends the long job with a final checkpoint (exit 130): it was still running, untouched.
    private static void StopAndExpectACheckpoint(RunningCli running)
    {
        using (var kill = System.Diagnostics.Process.Start("kill", ["-TERM", running.Id.ToString()]))
        {
            kill.WaitForExit();
        }
        var stopped = running.WaitForExit();
        Assert.True(stopped.ExitCode == 130, stopped.ToString());
    }
}
