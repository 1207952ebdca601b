using Orchestrator.Actors.Job;
using Orchestrator.Cli.Terminal.Watch;

namespace Orchestrator.Tests.Watch;

/// <summary>A work dir's journal and TensorBoard scalars as the watch shows them, and when the watch ends.</summary>
public sealed class WorkDirSnapshotsTests
{
    private static readonly DateTimeOffset Start = WatchSamples.Noon.AddMinutes(-1);

    [Fact]
    public void While_running_the_step_loss_and_rate_come_from_tensorboard_and_the_rest_from_the_journal()
    {
        var history = History(
            new RanksStarted(1, 2, null, 0, Start),
            new CheckpointCommitted(300, "iter_300", "/runs/a/checkpoints/iter_300", "d1", 0.5, "scheduled", WatchSamples.Noon.AddSeconds(-4)),
            new RankFailed(1, 0, 310, "crash", WatchSamples.Noon.AddSeconds(-3)),
            new RestartScheduled(2, "all", 0, "iter_300", 300, 10, 200, WatchSamples.Noon.AddSeconds(-3)),
            new RanksStarted(2, 2, "iter_300", 300, WatchSamples.Noon.AddSeconds(-2)));

        var snapshot = WorkDirSnapshots.From("/runs/a", history, new TensorBoardScalars(340, [0.5, 0.4123], 3.2), WatchSamples.Noon);

        Assert.Null(snapshot.ExitCode);
        Assert.Equal(
            "12:00:03 running step 340/1000 loss 0.4123 3.2 steps/s eta 3 min ckpt iter_300 (4 s ago) restarts 1 failures 1",
            PlainWatchView.JobLine(snapshot.Jobs.Single(), snapshot.At));
        Assert.Equal(2, snapshot.Jobs.Single().Ranks);
    }

    [Theory]
    [InlineData("completed", 0)]
    [InlineData("failed", 1)]
    [InlineData("stopped", 130)]
    public void A_final_state_in_the_journal_ends_the_watch_with_the_exit_code_train_would_give(string state, int exitCode)
    {
        JobEvent end = state switch
        {
            "completed" => new JobCompleted(1000, "digest", WatchSamples.Noon),
            "failed" => new JobFailed("restart budget spent", "iter_300", WatchSamples.Noon),
            _ => new JobStopped(420, "iter_420", WatchSamples.Noon),
        };

        var snapshot = WorkDirSnapshots.From("/runs/a", History(new RanksStarted(1, 1, null, 0, Start), end), new TensorBoardScalars(999, [0.1], 50), WatchSamples.Noon);

        Assert.Equal(exitCode, snapshot.ExitCode);
        var job = snapshot.Jobs.Single();
        Assert.Equal(state, job.State);
        Assert.Null(job.StepsPerSecond);
    }

    [Fact]
    public void Without_tensorboard_files_the_losses_are_the_checkpoints_and_the_step_is_the_journals()
    {
        var history = History(
            new CheckpointCommitted(100, "iter_100", "p", "d", 0.8, "scheduled", Start),
            new CheckpointCommitted(200, "iter_200", "p", "d", 0.6, "scheduled", Start));

        var job = WorkDirSnapshots.From("/runs/a", history, TensorBoardScalars.None, WatchSamples.Noon).Jobs.Single();

        Assert.Equal(200, job.Step);
        Assert.Equal([0.8, 0.6], job.Losses);
    }

    private static JobHistory History(params JobEvent[] events) =>
        new([new JobSubmitted(new JobSpec { Job = "mlp", WorkDir = "/runs/a", Steps = 1000, Ranks = 2 }, Start), .. events]);
}
