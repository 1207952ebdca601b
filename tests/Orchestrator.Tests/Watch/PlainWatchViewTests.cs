using Orchestrator.Cli.Terminal.Watch;

namespace Orchestrator.Tests.Watch;

public sealed class PlainWatchViewTests
{
    [Fact]
    public void A_job_line_has_time_state_step_loss_rate_eta_checkpoint_age_and_restarts() =>
        Assert.Equal(
            "12:00:03 running step 340/1000 loss 0.4123 3.2 steps/s eta 3 min ckpt iter_300 (4 s ago) restarts 1 failures 1",
            PlainWatchView.JobLine(WatchSamples.Job(), WatchSamples.Noon));

    [Fact]
    public void An_ended_job_has_no_rate_and_says_why_it_failed()
    {
        var failed = WatchSamples.Job() with { State = "failed", Why = "restart budget spent", StepsPerSecond = null };

        Assert.Equal(
            "12:00:03 failed (restart budget spent) step 340/1000 loss 0.4123 ckpt iter_300 (4 s ago) restarts 1 failures 1",
            PlainWatchView.JobLine(failed, WatchSamples.Noon));
    }

    [Fact]
    public void A_job_in_epochs_shows_its_length_in_epochs_and_no_eta() =>
        Assert.Equal(
            "12:00:03 running step 340 (of 3 epochs) loss 0.4123 3.2 steps/s ckpt none restarts 0 failures 0",
            PlainWatchView.JobLine(WatchSamples.Job(restarts: 0) with { Total = null, Epochs = 3, Checkpoint = null, CheckpointAt = null }, WatchSamples.Noon));

    [Fact]
    public void A_line_is_written_when_the_job_moves_not_when_only_time_passes()
    {
        var output = new StringWriter();
        var view = new PlainWatchView(output);

        view.Show(Snapshot(WatchSamples.Job(step: 340), WatchSamples.Noon));
        view.Show(Snapshot(WatchSamples.Job(step: 340) with { StepsPerSecond = 2.9 }, WatchSamples.Noon.AddSeconds(1)));
        view.Show(Snapshot(WatchSamples.Job(step: 350), WatchSamples.Noon.AddSeconds(2)));
        view.Show(Snapshot(WatchSamples.Job(step: 350, restarts: 2, state: "restarting"), WatchSamples.Noon.AddSeconds(3)));

        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.StartsWith("12:00:03 running step 340/1000", lines[0]);
        Assert.StartsWith("12:00:05 running step 350/1000", lines[1]);
        Assert.StartsWith("12:00:06 restarting step 350/1000", lines[2]);
        Assert.DoesNotContain('\u001b', output.ToString());
    }

    [Fact]
    public void A_cluster_gets_a_line_per_node_and_jobs_named_by_work_dir()
    {
        var output = new StringWriter();
        var node = new NodeSnapshot("akka.tcp://orchestrator@10.0.0.5:4053", "up", ["cpu", "cuda:0"], ["a#0", "a#1"], null);
        var job = WatchSamples.Job(rankNodes: [node.Address, node.Address]);

        new PlainWatchView(output).Show(new WatchSnapshot(WatchSamples.Noon, "10.0.0.5:4053", [job], [node]));

        Assert.Equal(
            [
                "12:00:03 node 10.0.0.5:4053 up cpu,cuda:0 ranks a#0,a#1",
                "12:00:03 /runs/a: running step 340/1000 loss 0.4123 3.2 steps/s eta 3 min ckpt iter_300 (4 s ago) restarts 1 failures 1 ranks 10.0.0.5:4053,10.0.0.5:4053",
            ],
            output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void A_notice_is_written_once_until_it_changes()
    {
        var output = new StringWriter();
        var view = new PlainWatchView(output);
        var waiting = new WatchSnapshot(WatchSamples.Noon, "/runs/a", [], [], Notice: "waiting for the job in /runs/a (no journal yet)");

        view.Show(waiting);
        view.Show(waiting with { At = WatchSamples.Noon.AddSeconds(1) });

        Assert.Equal("12:00:03 waiting for the job in /runs/a (no journal yet)", output.ToString().Trim());
    }

    private static WatchSnapshot Snapshot(JobSnapshot job, DateTimeOffset at) => new(at, job.WorkDir, [job], []);
}
