using Orchestrator.Actors.Job;
using Orchestrator.Actors.Protocol;
using Orchestrator.Actors.Tests.Support;

namespace Orchestrator.Actors.Tests.Job.Protocol;

/// <summary>
/// Which ranks a failure restarts. Today's rule: when the newest valid checkpoint is the step the job stands
/// at (no step since it), only the failed rank is recreated and its peers reload that checkpoint in place;
/// otherwise every rank is recreated from the newest checkpoint (or from the start when there is none).
/// </summary>
public sealed class RestartScopeTests : SupervisorProtocolKit
{
    [Fact]
    public async Task A_rank_failing_before_any_step_since_the_last_checkpoint_is_recreated_alone_and_its_peers_reload_in_place()
    {
        var spec = ScriptedSpec("one", ranks: 3, steps: 3);
        var job = Run(spec);
        await job.StartAllAsync();
        await job.StepAsync(1, epochEnded: true);
        var checkpoint = await job.CheckpointAsync(1);
        await job.ReportedAsync<ProgressSaved>();
        await job.ComputeAsync(2);
        var peers = new[] { job.Ranks[0].LastSender, job.Ranks[2].LastSender };
        var failed = WatchRanks(job, 1)[0];

        job.Answer(1, new RankWorkFailed(1, 1, 2, "CUDA error: an illegal memory access"));

        await ExpectStoppedAsync([failed]);
        var restart = await job.ExpectStartAsync(1);
        Assert.Equal(new StartRank(2, checkpoint.Path, null, false, false), restart);
        Assert.NotEqual(failed, job.Ranks[1].LastSender);
        foreach (var peer in new[] { 0, 2 })
        {
            var reload = await job.Ranks[peer].ExpectMsgAsync<ReloadCheckpoint>(ScriptedJob.Wait);
            Assert.Equal(new ReloadCheckpoint(2, checkpoint.Path), reload);
        }
        Assert.Equal(peers, new[] { job.Ranks[0].LastSender, job.Ranks[2].LastSender }); // the same actors, reloaded
        Assert.Equal(new ProgressRestart(1, 1), await job.ReportedAsync<ProgressRestart>());

        for (var rank = 0; rank < 3; rank++)
        {
            job.Ready(rank, 1);
        }
        await job.StepAsync(2);
        await job.StepAsync(3);
        var finished = await job.CompleteAsync(3);

        Assert.Equal(JobOutcome.Completed, finished.Outcome);
        var events = await EventsAsync(spec);
        var scheduled = Assert.Single(events.OfType<RestartScheduled>());
        Assert.Equal("one", ModeOf(scheduled));
        Assert.Equal((2, 1, checkpoint.Name, 1L, 0L), (scheduled.Generation, scheduled.FailedRank, scheduled.FromCheckpoint, scheduled.FromStep, scheduled.StepsRedone));
        Assert.Equal([1, 2], events.OfType<RanksStarted>().Select(r => r.Generation));
        Assert.Equal(checkpoint.Name, events.OfType<RanksStarted>().Last().FromCheckpoint);
    }

    [Fact]
    public async Task A_rank_failing_after_a_step_since_the_last_checkpoint_restarts_every_rank_from_it()
    {
        var spec = ScriptedSpec("all", ranks: 3, steps: 4);
        var job = Run(spec);
        await job.StartAllAsync();
        await job.StepAsync(1, epochEnded: true);
        var checkpoint = await job.CheckpointAsync(1);
        await job.ReportedAsync<ProgressSaved>();
        await job.StepAsync(2);
        await job.ComputeAsync(3);
        var before = WatchRanks(job, 0, 1, 2);

        job.Answer(2, new RankWorkFailed(1, 2, 3, "loss is NaN"));

        await ExpectStoppedAsync(before);
        var starts = await job.StartAllAsync(step: 1);
        Assert.All(starts, start => Assert.Equal(new StartRank(2, checkpoint.Path, null, false, false), start));
        Assert.Equal(new ProgressRestart(1, 1), await job.ReportedAsync<ProgressRestart>());
        await job.StepAsync(2);
        await job.StepAsync(3);
        await job.StepAsync(4);
        Assert.Equal(JobOutcome.Completed, (await job.CompleteAsync(4)).Outcome);

        var events = await EventsAsync(spec);
        var scheduled = Assert.Single(events.OfType<RestartScheduled>());
        Assert.Equal("all", ModeOf(scheduled));
        Assert.Equal((2, checkpoint.Name, 1L, 1L), (scheduled.FailedRank, scheduled.FromCheckpoint, scheduled.FromStep, scheduled.StepsRedone));
        var failure = Assert.Single(events.OfType<RankFailed>());
        Assert.Equal((1, 2, 3L, "loss is NaN"), (failure.Generation, failure.Rank, failure.Step, failure.Reason));
    }

    [Fact]
    public async Task A_rank_failing_before_the_first_checkpoint_restarts_every_rank_from_the_start()
    {
        var spec = ScriptedSpec("none", ranks: 2, steps: 2);
        var job = Run(spec);
        await job.StartAllAsync();
        await job.ComputeAsync(1);

        job.Answer(0, new RankWorkFailed(1, 0, 1, "out of memory"));

        var starts = await job.StartAllAsync();
        Assert.All(starts, start => Assert.Equal(new StartRank(2, null, null, false, false), start));
        Assert.Equal(new ProgressRestart(0, 1), await job.ReportedAsync<ProgressRestart>());
        await job.StepAsync(1);
        await job.StepAsync(2);
        Assert.Equal(JobOutcome.Completed, (await job.CompleteAsync(2)).Outcome);

        var scheduled = Assert.Single((await EventsAsync(spec)).OfType<RestartScheduled>());
        Assert.Equal("all", ModeOf(scheduled));
        Assert.Null(scheduled.FromCheckpoint);
        Assert.Equal((0L, 0L), (scheduled.FromStep, scheduled.StepsRedone));
    }

    [Fact]
    public async Task A_rank_actor_that_stops_on_its_own_is_a_failure_of_that_rank()
    {
        var spec = ScriptedSpec("stopped", ranks: 2, steps: 1);
        var job = Run(spec);
        await job.StartAllAsync();
        await job.ComputeAsync(1);

        Sys.Stop(job.Ranks[1].LastSender); // as when a rank's gradient link ends, or its node's actor system does

        var starts = await job.StartAllAsync();
        Assert.All(starts, start => Assert.Equal(2, start.Generation));
        await job.StepAsync(1);
        Assert.Equal(JobOutcome.Completed, (await job.CompleteAsync(1)).Outcome);
        var failure = Assert.Single((await EventsAsync(spec)).OfType<RankFailed>());
        Assert.Equal((1, "rank 1 stopped unexpectedly"), (failure.Rank, failure.Reason));
    }
}
