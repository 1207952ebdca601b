using Orchestrator.Actors.Job;
using Orchestrator.Actors.Protocol;
using Orchestrator.Actors.Tests.Support;

namespace Orchestrator.Actors.Tests.Job.Protocol;

/// <summary>Restarts are budgeted (so many within a window); a failure past the budget ends the job.</summary>
public sealed class RestartBudgetTests : SupervisorProtocolKit
{
    [Fact]
    public async Task A_failure_past_the_restart_budget_fails_the_job_in_one_line_naming_the_limit_and_the_last_good_checkpoint()
    {
        var spec = ScriptedSpec("budget", ranks: 2, steps: 5, restarts: new RestartPolicy { MaxRestarts = 1, BaseDelay = TimeSpan.FromMilliseconds(10) });
        var job = Run(spec);
        await job.StartAllAsync();
        await job.StepAsync(1, epochEnded: true);
        var checkpoint = await job.CheckpointAsync(1);
        await job.ReportedAsync<ProgressSaved>();
        await job.ComputeAsync(2);
        job.Answer(0, new RankWorkFailed(1, 0, 2, "first failure"));
        await job.ExpectStartAsync(0);
        await job.Ranks[1].ExpectMsgAsync<ReloadCheckpoint>(ScriptedJob.Wait);
        job.Ready(0, 1);
        job.Ready(1, 1);
        await job.ComputeAsync(2);
        var ranks = WatchRanks(job, 0, 1);

        job.Answer(1, new RankWorkFailed(2, 1, 2, "second failure"));

        var finished = await job.Requester.ExpectMsgAsync<JobFinished>(ScriptedJob.Wait);
        Assert.Equal(JobOutcome.Failed, finished.Outcome);
        Assert.Equal(1, finished.Step);
        Assert.Equal($"rank 1 failed at step 2: second failure; restart limit reached (1 in 10 min); last good checkpoint: {checkpoint.Name}", finished.Message);
        Assert.DoesNotContain('\n', finished.Message);
        await ExpectStoppedAsync(ranks);
        var events = await EventsAsync(spec);
        var failed = Assert.IsType<JobFailed>(events[^1]);
        Assert.Equal((finished.Message, checkpoint.Name), (failed.Reason, failed.LastCheckpoint));
        Assert.Single(events.OfType<RestartScheduled>());
        Assert.Equal(2, events.OfType<RankFailed>().Count());
        Assert.Equal(JobStatus.Failed, (await HistoryAsync(spec)).State.Status);
    }

    [Fact]
    public async Task Each_restart_in_the_window_waits_twice_as_long_as_the_one_before()
    {
        var spec = ScriptedSpec("backoff", ranks: 2, steps: 1, restarts: new RestartPolicy { MaxRestarts = 3, BaseDelay = TimeSpan.FromMilliseconds(10) });
        var job = Run(spec);
        await job.StartAllAsync();
        for (var failure = 0; failure < 3; failure++)
        {
            await job.ComputeAsync(1);
            job.Answer(failure % 2, new RankWorkFailed(job.Generation, failure % 2, 1, $"failure {failure}"));
            await job.StartAllAsync();
        }
        await job.StepAsync(1);
        Assert.Equal(JobOutcome.Completed, (await job.CompleteAsync(1)).Outcome);

        var delays = (await EventsAsync(spec)).OfType<RestartScheduled>().Select(r => r.DelayMilliseconds);
        Assert.Equal([10.0, 20.0, 40.0], delays);
        var restarts = new List<int>();
        await job.Reporter.FishForMessageAsync(m =>
        {
            if (m is ProgressRestart restart)
            {
                restarts.Add(restart.Restarts);
            }
            return m is ProgressSaved;
        }, ScriptedJob.Wait);
        Assert.Equal([1, 2, 3], restarts);
    }
}
