using System.Diagnostics;
using Orchestrator.Tests.Support;

namespace Orchestrator.Tests.Crashes;

/// <summary>
/// SIGTERM ends the process within a bound in every phase: while a hung rank is being restarted, during
/// start-up, and at once when sent a second time to a job that cannot reach a step boundary.
/// </summary>
public sealed class StopAlwaysStopsTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(15);
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task SIGTERM_while_a_hung_rank_waits_to_restart_stops_the_job_with_130()
    {
        var dir = _temp.Sub("hung");
        // A long back-off: the stop lands while the job waits to restart, where it used to be only noted.
        using var running = CliProcess.Start(CliProcess.Train("mlp", dir, 2000, more:
            ["--inject-fault", "hang@step=15", "--step-timeout", "1", "--restart-backoff", "60000"]));
        await running.WaitForLineAsync(line => line.Contains("restarting all ranks from iter_10", StringComparison.Ordinal));

        var (stopped, took) = Terminate(running);

        Assert.True(stopped.ExitCode == 130, stopped.ToString());
        Assert.Contains("stopped before training resumed; no checkpoint saved (iter_10 is the newest)", stopped.Output);
        Assert.True(took < Bound, $"took {took}");
        var rerun = CliProcess.Run(CliProcess.Train("mlp", dir, 20));
        Assert.True(rerun.ExitCode == 0, rerun.ToString());
        Assert.Contains("resumed from iter_10", rerun.Error);
    }

    [Fact]
    public void SIGTERM_during_start_up_ends_the_process()
    {
        using var running = CliProcess.Start(CliProcess.Train("mlp", _temp.Sub("starting"), 2000));

        var (stopped, took) = Terminate(running);

        // 143 before the stop handler is installed (the runtime's default for SIGTERM), 130 after it.
        Assert.True(stopped.ExitCode is 130 or 143, stopped.ToString());
        Assert.True(took < Bound, $"took {took}");
        Assert.DoesNotContain("Exception", stopped.Error);
    }

    [Fact]
    public async Task A_second_SIGTERM_ends_a_job_stuck_in_a_hung_step_at_once()
    {
        var dir = _temp.Sub("stuck");
        // The rank hangs at step 15 and is declared hung only after 120 s: the first stop cannot be saved at a step boundary.
        using var running = CliProcess.Start(CliProcess.Train("mlp", dir, 2000, more: ["--inject-fault", "hang@step=15", "--step-timeout", "120"]));
        await running.WaitForLineAsync(line => line.StartsWith("checkpoint iter_10 ", StringComparison.Ordinal));
        await WaitForFaultInJournal(dir, "hang@step=15");
        Signal(running, "TERM");
        await running.WaitForLineAsync(line => line.StartsWith("SIGTERM: saving a checkpoint", StringComparison.Ordinal));

        var (stopped, took) = Terminate(running);

        Assert.True(stopped.ExitCode == 130, stopped.ToString());
        Assert.Contains("SIGTERM again: exiting now without a checkpoint (the committed ones are intact)", stopped.Error);
        Assert.True(took < TimeSpan.FromSeconds(5), $"took {took}");
        Assert.Equal(0, CliProcess.Run(["checkpoints", "verify", Path.Combine(dir, "checkpoints", "iter_10")]).ExitCode);
    }

    // The hang fires right after its event is journaled; history reads the journal beside the running job.
    private static async Task WaitForFaultInJournal(string dir, string fault)
    {
        var deadline = Stopwatch.StartNew();
        while (!CliProcess.Run(["history", "--work-dir", dir]).Output.Contains($"fault injected  {fault}", StringComparison.Ordinal))
        {
            Assert.True(deadline.Elapsed < CliProcess.Limit, $"{fault} never reached the journal");
            await Task.Yield();
        }
    }

    private static (CliResult Result, TimeSpan Took) Terminate(RunningCli running)
    {
        var clock = Stopwatch.StartNew();
        Signal(running, "TERM");
        var result = running.WaitForExit();
        return (result, clock.Elapsed);
    }

    private static void Signal(RunningCli running, string signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", running.Id.ToString()]);
        kill.WaitForExit();
    }
}
