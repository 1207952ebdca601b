using Orchestrator.Actors.Job;
using Orchestrator.Actors.Protocol;
using Orchestrator.Actors.Tests.Support;

namespace Orchestrator.Actors.Tests.Job.Protocol;

/// <summary>
/// A scheduled save is written while training goes on. A failure that comes between the snapshot and the
/// write's commit must restart from that checkpoint once it lands, not from the one before it.
/// </summary>
public sealed class InFlightWriteTests : SupervisorProtocolKit
{
    [Fact]
    public async Task A_failure_while_a_checkpoint_is_written_waits_for_the_write_and_restarts_from_it()
    {
        var spec = ScriptedSpec("inflight", ranks: 2, steps: 3);
        var job = Run(spec);
        await job.StartAllAsync();
        await job.StepAsync(1);
        await job.StepAsync(2, epochEnded: true);
        var save = await job.CheckpointBarrierAsync(2);
        Assert.False(save.Blocking); // a scheduled save: training goes on while it is written
        job.Captured(save);
        await job.ComputeAsync(3);

        job.Answer(1, new RankWorkFailed(1, 1, 3, "NCCL timeout"));
        await job.SettledAsync(CreateTestProbe());

        // The failure is recorded, its restart not yet decided: there is no checkpoint on disk to decide from.
        var before = await EventsAsync(spec);
        Assert.IsType<RankFailed>(before[^1]);
        Assert.Empty(before.OfType<RestartScheduled>());

        var written = job.Written(save);

        var restart = await job.ExpectStartAsync(1);
        Assert.Equal(new StartRank(2, written.Path, null, false, false), restart);
        Assert.Equal(new ReloadCheckpoint(2, written.Path), await job.Ranks[0].ExpectMsgAsync<ReloadCheckpoint>(ScriptedJob.Wait));
        Assert.Equal(new ProgressRestart(2, 1), await job.ReportedAsync<ProgressRestart>());
        job.Ready(0, 2);
        job.Ready(1, 2);
        await job.StepAsync(3);
        Assert.Equal(JobOutcome.Completed, (await job.CompleteAsync(3)).Outcome);

        var events = await EventsAsync(spec);
        var committed = events.OfType<CheckpointCommitted>().First();
        var scheduled = Assert.Single(events.OfType<RestartScheduled>());
        Assert.True(events.ToList().IndexOf(committed) < events.ToList().IndexOf(scheduled), "the commit is journalled before the restart it enabled");
        Assert.Equal(("one", written.Name, 2L), (ModeOf(scheduled), scheduled.FromCheckpoint, scheduled.FromStep));
    }

    [Fact]
    public async Task A_write_that_never_lands_is_waited_for_one_step_timeout_then_the_restart_goes_on_from_the_older_checkpoint()
    {
        var spec = ScriptedSpec("lost-write", ranks: 2, steps: 3, stepTimeout: TimeSpan.FromMilliseconds(500));
        var job = Run(spec);
        await job.StartAllAsync();
        await job.StepAsync(1, epochEnded: true);
        var older = await job.CheckpointAsync(1);
        await job.ReportedAsync<ProgressSaved>();
        await job.StepAsync(2, epochEnded: true);
        var save = await job.CheckpointBarrierAsync(2);
        job.Captured(save); // rank 0's write of step 2 never reports
        await job.ComputeAsync(3);

        job.Answer(0, new RankWorkFailed(1, 0, 3, "rank 0's process was killed"));

        for (var rank = 0; rank < 2; rank++)
        {
            Assert.Equal(new StartRank(2, older.Path, null, false, false), await job.ExpectStartAsync(rank));
        }
        await job.StopWhileStartingAsync();

        var scheduled = Assert.Single((await EventsAsync(spec)).OfType<RestartScheduled>());
        Assert.Equal(("all", older.Name, 1L), (ModeOf(scheduled), scheduled.FromCheckpoint, scheduled.StepsRedone));
    }
}
