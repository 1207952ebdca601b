using Akka.Actor;
using Orchestrator.Actors.Job;
using Orchestrator.Actors.Protocol;
using Orchestrator.Actors.Tests.Support;
using Orchestrator.Trainer.Checkpointing;

namespace Orchestrator.Actors.Tests.Job.Protocol;

/// <summary>The order of a step's messages, and what the supervisor decides at a step's end.</summary>
public sealed class StepProtocolTests : SupervisorProtocolKit
{
    [Fact]
    public async Task A_save_the_job_asks_for_is_taken_at_that_step_end_and_training_goes_on()
    {
        var spec = ScriptedSpec("requested", ranks: 2, steps: 3);
        var job = Run(spec);
        await job.StartAllAsync();
        await job.ComputeAsync(1);
        job.SendGradients(0, 1);
        job.SendGradients(1, 1);
        await job.AveragesAsync(1);
        job.Applied(0, 1);
        job.Answer(1, new StepApplied(job.Generation, 1, 1, 0, false, 0.01, SaveRequested: true)); // rank 1's job called RequestSave

        var save = await job.CheckpointBarrierAsync(1);
        Assert.Equal("requested", save.Reason.ToString(), ignoreCase: true);
        job.Captured(save);
        var written = job.Written(save);
        await job.StepAsync(2);
        await job.StepAsync(3);
        var finished = await job.CompleteAsync(3);

        Assert.Equal(new JobFinished(JobOutcome.Completed, 3, ScriptedJob.Weights, "completed 3 steps"), finished);
        var committed = (await EventsAsync(spec)).OfType<CheckpointCommitted>().ToList();
        Assert.Equal([(written.Name, 1L), ("iter_3", 3L)], committed.Select(c => (c.Name, c.Step)));
    }
}
