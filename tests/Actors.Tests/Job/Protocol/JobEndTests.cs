using Orchestrator.Actors.Job;
using Orchestrator.Actors.Protocol;
using Orchestrator.Actors.Tests.Support;
using Orchestrator.Trainer.Checkpointing;
using Orchestrator.Trainer.Distributed;

namespace Orchestrator.Actors.Tests.Job.Protocol;

/// <summary>How a job's run ends, and the faults injected on the way, as the ranks and the journal see them.</summary>
public sealed class JobEndTests : SupervisorProtocolKit
{
    [Fact]
    public async Task The_last_step_ends_with_a_blocking_final_save_and_the_job_completes_on_its_commit()
    {
        var spec = ScriptedSpec("final", ranks: 2, steps: 2);
        var job = Run(spec);
        await job.StartAllAsync();
        await job.StepAsync(1);
        await job.StepAsync(2);
        var save = await job.CheckpointBarrierAsync(2);
        Assert.Equal("final", save.Reason.ToString(), ignoreCase: true);
        Assert.True(save.Blocking);
        // The commit report of a blocking save may come before its capture answer: the job ends either way.
        var written = job.Written(save);
        job.Captured(save);

        var finished = await job.Requester.ExpectMsgAsync<JobFinished>(ScriptedJob.Wait);
        Assert.Equal(new JobFinished(JobOutcome.Completed, 2, ScriptedJob.Weights, "completed 2 steps"), finished);
        var events = await EventsAsync(spec);
        Assert.Equal(written.Name, Assert.IsType<CheckpointCommitted>(events[^2]).Name);
        Assert.Equal(2, Assert.IsType<JobCompleted>(events[^1]).Step);
    }

    [Fact]
    public async Task Without_save_last_the_end_still_syncs_buffers_and_checks_replicas_but_saves_nothing()
    {
        var spec = ScriptedSpec("no-save-last", ranks: 2, steps: 1) with { Schedule = new CheckpointSchedule(EveryEpochs: 1, SaveLast: false) };
        var job = Run(spec);
        await job.StartAllAsync();
        await job.StepAsync(1);
        for (var rank = 0; rank < 2; rank++)
        {
            await job.Ranks[rank].ExpectMsgAsync<ExportBuffers>(ScriptedJob.Wait);
            job.Answer(rank, new BuffersExported(1, rank, 1, [rank]));
        }
        for (var rank = 0; rank < 2; rank++)
        {
            await job.Ranks[rank].ExpectMsgAsync<ImportBuffers>(ScriptedJob.Wait);
            job.Answer(rank, new BuffersImported(1, rank, 1, ScriptedJob.Weights));
        }

        Assert.Equal(new JobFinished(JobOutcome.Completed, 1, ScriptedJob.Weights, "completed 1 steps"), await job.Requester.ExpectMsgAsync<JobFinished>(ScriptedJob.Wait));
        Assert.Empty((await EventsAsync(spec)).OfType<CheckpointCommitted>());
    }

    [Fact]
    public async Task Ranks_that_start_at_the_last_step_find_the_job_already_complete()
    {
        var spec = ScriptedSpec("complete", ranks: 2, steps: 3);
        var final = HandWrittenCheckpoint.Commit(spec, 3, "final", ScriptedJob.Weights);
        var job = Run(spec);
        var starts = await job.StartAllAsync(step: 3);
        Assert.Equal(final.Path, starts[0].ResumeFrom);
        var ranks = WatchRanks(job, 0, 1);

        var finished = await job.Requester.ExpectMsgAsync<JobFinished>(ScriptedJob.Wait);
        Assert.Equal(new JobFinished(JobOutcome.AlreadyComplete, 3, ScriptedJob.Weights, "already complete at step 3: nothing to do"), finished);
        await ExpectStoppedAsync(ranks);
        Assert.Equal(3, Assert.IsType<JobCompleted>((await EventsAsync(spec))[^1]).Step);
    }

    [Fact]
    public async Task An_injected_fault_reaches_its_rank_at_its_step_once_and_not_again_after_the_restart()
    {
        var spec = ScriptedSpec("fault", ranks: 2, steps: 2) with { Faults = ["crash@step=2,rank=1"] };
        var job = Run(spec);
        await job.StartAllAsync();
        await job.StepAsync(1, epochEnded: true);
        var checkpoint = await job.CheckpointAsync(1);
        await job.ReportedAsync<ProgressSaved>();
        Assert.Null((await job.Ranks[0].ExpectMsgAsync<ComputeGradients>(ScriptedJob.Wait)).Fault);
        Assert.Equal(new ComputeGradients(1, 2, FaultKind.Crash, Alone: false, Through: 2), await job.Ranks[1].ExpectMsgAsync<ComputeGradients>(ScriptedJob.Wait));

        job.Answer(1, new RankWorkFailed(1, 1, 2, "injected crash at step 2")); // what the rank's step does with it

        Assert.Equal(new StartRank(2, checkpoint.Path, null, false, false), await job.ExpectStartAsync(1));
        await job.Ranks[0].ExpectMsgAsync<ReloadCheckpoint>(ScriptedJob.Wait);
        job.Ready(0, 1);
        job.Ready(1, 1);
        await job.StepAsync(2); // asserts no fault this time
        Assert.Equal(JobOutcome.Completed, (await job.CompleteAsync(2)).Outcome);

        var fired = Assert.Single((await EventsAsync(spec)).OfType<FaultFired>());
        Assert.Equal("crash@step=2,rank=1", fired.FaultId);
    }
}
