using System.Text.RegularExpressions;
using Orchestrator.Tests.Support;

namespace Orchestrator.Tests.Crashes;

/// <summary>Real process kills (SIGKILL) at chosen steps and at arbitrary moments, then a plain rerun.</summary>
public sealed class KillAndResumeTests : IDisposable
{
    private const int Steps = 60;
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData("mlp")]
    [InlineData("cnn")]
    [InlineData("charlm")]
    public void Killed_at_several_steps_and_rerun_ends_with_the_uninterrupted_weights(string job)
    {
        var straight = ReferenceRuns.WeightsSha256(job, Steps);

        var dir = _temp.Sub("killed");
        foreach (var step in new[] { 7, 23, 41 })
        {
            var killed = CliProcess.Run(CliProcess.Train(job, dir, Steps), new Dictionary<string, string> { ["ORCHESTRATOR_KILL_AT"] = $"step:{step}" });
            Assert.Equal(137, killed.ExitCode);
            Assert.DoesNotContain("weights-sha256", killed.Output);
        }
        var resumed = CliProcess.Run(CliProcess.Train(job, dir, Steps));

        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        // The kill at step 41 may land while iter_40 is still being written in the background.
        Assert.Matches("resumed from iter_(30|40) at step (30|40)", resumed.Error);
        Assert.Equal(straight, resumed.WeightsSha256);
    }

    [Fact]
    public async Task Killed_from_outside_at_arbitrary_moments_the_run_still_resumes_exactly()
    {
        var straight = ReferenceRuns.WeightsSha256("mlp", 1500);
        var dir = _temp.Sub("killed");
        foreach (var checkpointsBeforeKill in new[] { 1, 3, 2 })
        {
            using var running = CliProcess.Start(CliProcess.Train("mlp", dir, 1500, every: 7));
            for (var i = 0; i < checkpointsBeforeKill; i++)
            {
                await running.WaitForLineAsync(line => line.StartsWith("checkpoint ", StringComparison.Ordinal));
            }
            running.KillHard();
            running.WaitForExit();
        }
        var resumed = CliProcess.Run(CliProcess.Train("mlp", dir, 1500, every: 7));

        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.Equal(straight, resumed.WeightsSha256);
        Assert.Equal(0, CliProcess.Run(["checkpoints", "verify", dir]).ExitCode);
    }

    [Fact]
    public async Task SIGTERM_saves_a_checkpoint_and_exits_130_and_the_rerun_finishes_identically()
    {
        // Long enough that the stop lands mid-run: with 400 steps (about 0.6 s at 700 steps/s here) a test
        // thread that saw the first checkpoint's line late once sent SIGTERM to a process that had finished.
        const int Steps = 2000;
        var straight = ReferenceRuns.WeightsSha256("cnn", Steps);
        var dir = _temp.Sub("stopped");
        using (var running = CliProcess.Start(CliProcess.Train("cnn", dir, Steps, every: 50)))
        {
            await running.WaitForLineAsync(line => line.StartsWith("checkpoint iter_50", StringComparison.Ordinal));
            using var kill = System.Diagnostics.Process.Start("kill", ["-TERM", running.Id.ToString()]);
            kill.WaitForExit();
            var stopped = running.WaitForExit();

            Assert.True(stopped.ExitCode == 130, stopped.ToString());
            Assert.Contains("checkpoint saved, rerun the same command to continue", stopped.Output);
            // Usually a new "(interrupt)" checkpoint. On a loaded machine the stop can reach the supervisor
            // while a scheduled checkpoint (every 50 steps) is being taken; that checkpoint is then the
            // interrupt's, and nothing new is written for the same step.
            var stoppedAt = int.Parse(Regex.Match(stopped.Output, @"stopped at step (\d+)").Groups[1].Value);
            Assert.True(Directory.Exists(Path.Combine(dir, "checkpoints", $"iter_{stoppedAt}")), stopped.ToString());
            Assert.True(stoppedAt % 50 == 0 || stopped.Error.Contains("(interrupt)", StringComparison.Ordinal), stopped.ToString());
        }
        var resumed = CliProcess.Run(CliProcess.Train("cnn", dir, Steps, every: 50));

        Assert.Equal(straight, resumed.WeightsSha256);
    }
}
