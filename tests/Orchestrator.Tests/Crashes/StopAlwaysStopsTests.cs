using System.Diagnostics;
using Orchestrator.Tests.Support;

namespace Orchestrator.Tests.Crashes;

/// <summary>
/// SIGTERM ends the process within a bound in every phase: while a hung rank is being restarted, during
/// start-up, at once when sent a second time to a job that cannot reach a step boundary, and at the stop
/// deadline when sent once to such a job.
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

    [Fact]
    public async Task The_stop_deadline_ends_a_job_stuck_in_a_hung_step_with_130_and_a_rerun_resumes_identically()
    {
        const int Steps = 40;
        const int DeadlineSeconds = 5;
        var straight = ReferenceRuns.WeightsSha256("mlp", Steps);
        var dir = _temp.Sub("stuck");
        // The rank hangs at step 15 and would be declared hung only after 120 s, so the stop cannot reach a step
        // boundary; the operator's deadline (as for a container killed 10 s after its SIGTERM) is shorter.
        var operatorDeadline = new Dictionary<string, string> { ["ORCHESTRATOR_STOP_DEADLINE"] = DeadlineSeconds.ToString() };
        using var running = CliProcess.Start(CliProcess.Train("mlp", dir, Steps, more: ["--inject-fault", "hang@step=15", "--step-timeout", "120"]), operatorDeadline);
        await running.WaitForLineAsync(line => line.StartsWith("checkpoint iter_10 ", StringComparison.Ordinal));
        await WaitForFaultInJournal(dir, "hang@step=15");

        var (stopped, took) = Terminate(running);

        Assert.True(stopped.ExitCode == 130, stopped.ToString());
        Assert.Equal(
            [$"error: the job did not stop within {DeadlineSeconds} s of SIGTERM; exiting without a checkpoint (the committed ones are intact; rerun to resume)"],
            stopped.Error.Split('\n').Select(l => l.Trim()).Where(l => l.StartsWith("error:", StringComparison.Ordinal)));
        Assert.DoesNotContain("Exception", stopped.Error);
        // Armed by the signal, so never sooner; the process then ends at once, whatever is stuck.
        Assert.True(took >= TimeSpan.FromSeconds(DeadlineSeconds) && took < TimeSpan.FromSeconds(DeadlineSeconds + 7), $"took {took}");
        Assert.Equal(0, CliProcess.Run(["checkpoints", "verify", Path.Combine(dir, "checkpoints", "iter_10")]).ExitCode);
        var rerun = CliProcess.Run(CliProcess.Train("mlp", dir, Steps));
        Assert.True(rerun.ExitCode == 0, rerun.ToString());
        Assert.Contains("resumed from iter_10", rerun.Error);
        Assert.Equal(straight, rerun.WeightsSha256);
    }

    [Fact]
    public void A_stop_deadline_out_of_range_is_refused_in_one_line_with_2()
    {
        var dir = _temp.Sub("refused");

        var refused = CliProcess.Run(CliProcess.Train("mlp", dir, 20), new Dictionary<string, string> { ["ORCHESTRATOR_STOP_DEADLINE"] = "0" });

        Assert.True(refused.ExitCode == 2, refused.ToString());
        Assert.Equal("error: ORCHESTRATOR_STOP_DEADLINE=0 is out of range: give a number of seconds from 1 to 3600, or unset it for the default (twice --step-timeout, at least 30 s)", refused.Error.Trim());
        Assert.False(Directory.Exists(dir));
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
