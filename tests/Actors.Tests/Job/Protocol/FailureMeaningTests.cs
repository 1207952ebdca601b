using Orchestrator.Actors.Job;
using Orchestrator.Actors.Protocol;
using Orchestrator.Actors.Tests.Support;

namespace Orchestrator.Actors.Tests.Job.Protocol;

/// <summary>
/// Not every failure is cured by a restart: what a rank's failure means decides whether the job restarts,
/// starts from an older checkpoint, is refused or fails at once.
/// </summary>
public sealed class FailureMeaningTests : SupervisorProtocolKit
{
    [Fact]
    public async Task A_permanent_error_refuses_the_job_at_once_without_a_restart()
    {
        var spec = ScriptedSpec("permanent", ranks: 2);
        var job = Run(spec);
        await job.ExpectStartAsync(0);
        await job.ExpectStartAsync(1);
        var ranks = WatchRanks(job, 0, 1);

        job.Answer(1, new RankWorkFailed(1, 1, 0, "job option 'width' must be positive", Permanent: true));

        Assert.Equal(new JobFinished(JobOutcome.Refused, 0, null, "job option 'width' must be positive"), await job.Requester.ExpectMsgAsync<JobFinished>(ScriptedJob.Wait));
        await ExpectStoppedAsync(ranks);
        var events = await EventsAsync(spec);
        Assert.Empty(events.OfType<RankFailed>());
        Assert.Empty(events.OfType<RestartScheduled>());
    }

    [Fact]
    public async Task A_full_disk_fails_the_job_at_once_naming_the_checkpoints_still_intact()
    {
        var spec = ScriptedSpec("disk-full", ranks: 2, steps: 4);
        var job = Run(spec);
        await job.StartAllAsync();
        await job.StepAsync(1, epochEnded: true);
        var checkpoint = await job.CheckpointAsync(1);
        await job.ReportedAsync<ProgressSaved>();
        await job.StepAsync(2, epochEnded: true);
        var save = await job.CheckpointBarrierAsync(2);
        var ranks = WatchRanks(job, 0, 1);

        job.Answer(0, new RankWorkFailed(1, 0, 2, "No space left on device", DiskFull: true));

        var finished = await job.Requester.ExpectMsgAsync<JobFinished>(ScriptedJob.Wait);
        Assert.Equal(JobOutcome.Failed, finished.Outcome);
        Assert.Equal($"no space left on {spec.WorkDir} (checkpoints up to {checkpoint.Name} are intact; free space and rerun)", finished.Message);
        await ExpectStoppedAsync(ranks);
        Assert.Empty((await EventsAsync(spec)).OfType<RestartScheduled>());
        Assert.Equal(2, save.Step);
    }

    [Fact]
    public async Task A_checkpoint_a_rank_refuses_to_restore_is_passed_over_for_the_next_older_one()
    {
        var spec = ScriptedSpec("refused", ranks: 2, steps: 3);
        // Left by an earlier run that ended before its journal recorded them.
        var older = HandWrittenCheckpoint.Commit(spec, 1, "schedule", ScriptedJob.Weights);
        var newest = HandWrittenCheckpoint.Commit(spec, 2, "schedule", ScriptedJob.Weights);
        var job = Run(spec);
        var first = await job.ExpectStartAsync(0);
        await job.ExpectStartAsync(1);
        Assert.Equal(newest.Path, first.ResumeFrom);

        // It verifies on disk, but its restore finds a blob it cannot read (padded and resealed).
        var reason = $"{newest.Name}: optimizer.bin matches the manifest but cannot be read";
        job.Answer(0, new RankWorkFailed(1, 0, 0, reason, Permanent: true, RefusedCheckpoint: newest.Path));

        var starts = await job.StartAllAsync(step: 1);
        Assert.All(starts, start => Assert.Equal(new StartRank(2, older.Path, null, false, false), start));
        Assert.Equal($"{reason}; resuming from {older.Name} instead", (await job.ReportedAsync<ProgressNote>(n => n.Message.StartsWith(reason, StringComparison.Ordinal))).Message);
        await job.StepAsync(2);
        await job.StepAsync(3);
        Assert.Equal(JobOutcome.Completed, (await job.CompleteAsync(3)).Outcome);

        var events = await EventsAsync(spec);
        Assert.Empty(events.OfType<RankFailed>());
        Assert.Equal(older.Name, Assert.Single(events.OfType<RanksStarted>()).FromCheckpoint);
    }

    [Fact]
    public async Task A_checkpoint_the_user_named_and_a_rank_refuses_refuses_the_job_instead_of_replacing_it()
    {
        var setup = ScriptedSpec("named", ranks: 2, steps: 3);
        var named = HandWrittenCheckpoint.Commit(setup, 2, "schedule", ScriptedJob.Weights);
        var spec = setup with { ResumePath = named.Path };
        var job = Run(spec);
        Assert.Equal(named.Path, (await job.ExpectStartAsync(0)).ResumeFrom);
        await job.ExpectStartAsync(1);

        var reason = $"{named.Name}: optimizer.bin matches the manifest but cannot be read";
        job.Answer(1, new RankWorkFailed(1, 1, 0, reason, Permanent: true, RefusedCheckpoint: named.Path));

        Assert.Equal(new JobFinished(JobOutcome.Refused, 0, null, reason), await job.Requester.ExpectMsgAsync<JobFinished>(ScriptedJob.Wait));
    }
}
