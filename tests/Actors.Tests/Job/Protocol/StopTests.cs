using Akka.Actor;
using Orchestrator.Actors.Job;
using Orchestrator.Actors.Protocol;
using Orchestrator.Actors.Tests.Support;

namespace Orchestrator.Actors.Tests.Job.Protocol;

/// <summary>
/// A stop (Ctrl-C, SIGTERM, an operator): while ranks step it saves at the next step end; while they start or
/// wait out a restart's back-off there is no step to save at, so the job ends at once, its newest checkpoint kept.
/// </summary>
public sealed class StopTests : SupervisorProtocolKit
{
    [Fact]
    public async Task A_stop_during_start_up_ends_the_job_at_once_without_waiting_for_the_ranks()
    {
        var spec = ScriptedSpec("starting", ranks: 2);
        var job = Run(spec);
        await job.ExpectStartAsync(0);
        await job.ExpectStartAsync(1);
        var ranks = WatchRanks(job, 0, 1);

        job.Supervisor.Tell(StopJob.Instance);

        var finished = await job.Requester.ExpectMsgAsync<JobFinished>(ScriptedJob.Wait);
        Assert.Equal(new JobFinished(JobOutcome.Stopped, 0, null, "stopped before training resumed; no checkpoint saved (none yet), rerun the same command to continue"), finished);
        await ExpectStoppedAsync(ranks);
        var stopped = Assert.IsType<JobStopped>((await EventsAsync(spec))[^1]);
        Assert.Null(stopped.Checkpoint);
    }

    [Fact]
    public async Task A_stop_during_a_restart_back_off_ends_the_job_at_once_naming_the_newest_checkpoint()
    {
        var hour = TimeSpan.FromHours(1);
        var spec = ScriptedSpec("backing-off", ranks: 2, restarts: new RestartPolicy { BaseDelay = hour, MaxDelay = hour });
        var job = Run(spec);
        await job.StartAllAsync();
        await job.StepAsync(1, epochEnded: true);
        var checkpoint = await job.CheckpointAsync(1);
        await job.ReportedAsync<ProgressSaved>();
        await job.ComputeAsync(2);
        job.Answer(1, new RankWorkFailed(1, 1, 2, "lost device"));
        await job.ReportedAsync<ProgressRestart>(); // the restart waits an hour from here

        job.Supervisor.Tell(StopJob.Instance);

        var finished = await job.Requester.ExpectMsgAsync<JobFinished>(ScriptedJob.Wait);
        Assert.Equal(JobOutcome.Stopped, finished.Outcome);
        Assert.Equal($"stopped before training resumed; no checkpoint saved ({checkpoint.Name} is the newest), rerun the same command to continue", finished.Message);
        var events = await EventsAsync(spec);
        Assert.Equal(checkpoint.Name, Assert.IsType<JobStopped>(events[^1]).Checkpoint);
        Assert.IsType<RestartScheduled>(events[^2]);
    }

    [Fact]
    public async Task A_stop_while_stepping_saves_at_the_end_of_the_step_and_stops_there()
    {
        var spec = ScriptedSpec("stepping", ranks: 2, steps: 10);
        var job = Run(spec);
        await job.StartAllAsync();
        await job.StepAsync(1);
        await job.ComputeAsync(2);

        job.Supervisor.Tell(StopJob.Instance);

        job.SendGradients(0, 2);
        job.SendGradients(1, 2);
        await job.AveragesAsync(2);
        job.Applied(0, 2);
        job.Applied(1, 2);
        var save = await job.CheckpointBarrierAsync(2);
        Assert.Equal("interrupt", save.Reason.ToString(), ignoreCase: true);
        Assert.True(save.Blocking);
        job.Captured(save);
        var written = job.Written(save);
        var finished = await job.Requester.ExpectMsgAsync<JobFinished>(ScriptedJob.Wait);

        Assert.Equal(JobOutcome.Stopped, finished.Outcome);
        Assert.Equal((2L, "stopped at step 2; checkpoint saved, rerun the same command to continue"), (finished.Step, finished.Message));
        var events = await EventsAsync(spec);
        Assert.Equal(written.Name, Assert.IsType<JobStopped>(events[^1]).Checkpoint);
        var committed = Assert.IsType<CheckpointCommitted>(events[^2]);
        Assert.Equal((written.Name, 2L), (committed.Name, committed.Step));
    }

    [Fact]
    public async Task A_stop_while_a_cluster_job_waits_for_enough_nodes_ends_the_job_at_once()
    {
        var spec = ScriptedSpec("waiting", ranks: 2) with { MinRanks = 2, MaxRanks = 2 };
        var job = Run(spec, RankPlacement.Cluster("akka.tcp://orchestrator@node-a:4053"));
        await job.ReportedAsync<ProgressNote>(n => n.Message.StartsWith("waiting for ranks", StringComparison.Ordinal));

        job.Supervisor.Tell(StopJob.Instance);

        var finished = await job.Requester.ExpectMsgAsync<JobFinished>(ScriptedJob.Wait);
        Assert.Equal((JobOutcome.Stopped, 0L), (finished.Outcome, finished.Step));
        Assert.IsType<JobStopped>((await EventsAsync(spec))[^1]);
    }
}
