using Orchestrator.Actors.Job;
using Orchestrator.Actors.Protocol;
using Orchestrator.Actors.Tests.Support;

namespace Orchestrator.Actors.Tests.Job.Protocol;

/// <summary>
/// A step that does not end within the step timeout: the supervisor must name the rank that hangs, not one
/// of its peers, which look just as late because they wait for its gradients.
/// </summary>
public sealed class HungRankTests : SupervisorProtocolKit
{
    private static readonly TimeSpan StepTimeout = TimeSpan.FromMilliseconds(500);

    [Fact]
    public async Task A_step_timeout_names_the_rank_that_sent_no_gradients_and_recreates_it_alone()
    {
        var spec = ScriptedSpec("silent", ranks: 3, steps: 2, stepTimeout: StepTimeout);
        var job = Run(spec);
        await job.StartAllAsync();
        await job.StepAsync(1, epochEnded: true);
        var checkpoint = await job.CheckpointAsync(1);
        await job.ReportedAsync<ProgressSaved>();
        await job.ComputeAsync(2);

        // Ranks 0 and 1 send their gradients and wait for the average; rank 2 never answers.
        job.SendGradients(0, 2);
        job.SendGradients(1, 2);

        var restart = await job.ExpectStartAsync(2);
        Assert.Equal(new StartRank(2, checkpoint.Path, null, false, false), restart);
        Assert.Equal(new ReloadCheckpoint(2, checkpoint.Path), await job.Ranks[0].ExpectMsgAsync<ReloadCheckpoint>(ScriptedJob.Wait));
        Assert.Equal(new ReloadCheckpoint(2, checkpoint.Path), await job.Ranks[1].ExpectMsgAsync<ReloadCheckpoint>(ScriptedJob.Wait));
        await job.StopWhileStartingAsync();

        var events = await EventsAsync(spec);
        var failure = Assert.Single(events.OfType<RankFailed>());
        Assert.Equal((2, 2L), (failure.Rank, failure.Step));
        Assert.Equal("rank 2 did not answer within 0.5 s during step 2 (hung)", failure.Reason);
        var scheduled = Assert.Single(events.OfType<RestartScheduled>());
        Assert.Equal(("one", 2), (ModeOf(scheduled), scheduled.FailedRank));
    }

    [Fact]
    public async Task A_step_timeout_after_the_averages_names_the_rank_that_never_applied_them()
    {
        var spec = ScriptedSpec("unapplied", ranks: 3, steps: 2, stepTimeout: StepTimeout);
        var job = Run(spec);
        await job.StartAllAsync();
        await job.ComputeAsync(1);
        for (var rank = 0; rank < 3; rank++)
        {
            job.SendGradients(rank, 1);
        }
        await job.AveragesAsync(1);

        job.Applied(0, 1);
        job.Applied(2, 1); // rank 1 hangs applying the average

        for (var rank = 0; rank < 3; rank++)
        {
            Assert.Equal(new StartRank(2, null, null, false, false), await job.ExpectStartAsync(rank));
        }
        await job.StopWhileStartingAsync();

        var failure = Assert.Single((await EventsAsync(spec)).OfType<RankFailed>());
        Assert.Equal(1, failure.Rank);
        Assert.EndsWith("during step 1 (hung)", failure.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_start_that_does_not_end_within_five_step_timeouts_names_the_rank_not_ready()
    {
        var spec = ScriptedSpec("start", ranks: 2, steps: 1, stepTimeout: TimeSpan.FromMilliseconds(100));
        var job = Run(spec);
        await job.ExpectStartAsync(0);
        await job.ExpectStartAsync(1);
        job.Ready(1, 0); // rank 0 never reports ready

        await job.ExpectStartAsync(0);
        await job.ExpectStartAsync(1);
        Assert.Equal(2, job.Generation);
        await job.StopWhileStartingAsync();

        var events = await EventsAsync(spec);
        var failure = Assert.Single(events.OfType<RankFailed>());
        Assert.Equal((0, "rank 0 did not answer within 0.5 s during start (hung)"), (failure.Rank, failure.Reason));
        Assert.Equal("all", ModeOf(Assert.Single(events.OfType<RestartScheduled>())));
    }
}
