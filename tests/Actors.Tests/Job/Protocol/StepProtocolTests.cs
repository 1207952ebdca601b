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

    [Fact]
    public async Task When_nothing_is_decided_at_a_step_end_the_next_step_starts_with_the_last_average()
    {
        var spec = ScriptedSpec("overlap", ranks: 2, steps: 3) with { Schedule = new CheckpointSchedule(EveryIterations: 2) };
        var job = Run(spec);
        await job.StartAllAsync();
        await job.ComputeAsync(1);
        job.SendGradients(0, 1);
        job.SendGradients(1, 1);
        await job.AveragesAsync(1);

        // Step 2 starts as step 1's last average leaves, before either rank said it applied it.
        await job.ComputeAsync(2);
        job.Applied(0, 1);
        job.Applied(1, 1);
        var first = await job.ReportedAsync<ProgressStep>();
        Assert.Equal((1L, 1.5), (first.Step.Iteration, first.Step.Loss)); // the mean of the ranks' losses
        job.SendGradients(0, 2);
        job.SendGradients(1, 2);
        await job.AveragesAsync(2);
        // Step 2 ends on a checkpoint: nothing starts before the ranks report it applied.
        job.Applied(0, 2);
        job.Applied(1, 2);
        var save = await job.CheckpointBarrierAsync(2);
        Assert.Equal("schedule", save.Reason.ToString(), ignoreCase: true);
        job.Captured(save);
        await job.ComputeAsync(3);
        job.Written(save);
        await job.FinishStepAsync(3);
        Assert.Equal(JobOutcome.Completed, (await job.CompleteAsync(3)).Outcome);
    }

    [Fact]
    public async Task One_rank_runs_ahead_to_the_next_checkpoint_and_reports_the_steps_between_in_batches()
    {
        var spec = ScriptedSpec("alone", ranks: 1, steps: 100) with { Schedule = new CheckpointSchedule(EveryIterations: 10) };
        var job = Run(spec);
        await job.StartAllAsync();
        var first = await job.Ranks[0].ExpectMsgAsync<ComputeGradients>(ScriptedJob.Wait);
        Assert.Equal(new ComputeGradients(1, 1, null, Alone: true, Through: 1), first); // no step time known yet: one step
        job.Answer(0, new StepApplied(1, 0, 1, 0, false, 0.01, Loss: 0.5, Samples: 8, Seconds: 0.001));

        // A millisecond a step: the next window runs until the checkpoint due at step 10, without a word in between.
        var window = await job.Ranks[0].ExpectMsgAsync<ComputeGradients>(ScriptedJob.Wait);
        Assert.Equal(new ComputeGradients(1, 2, null, Alone: true, Through: 10), window);
        StepApplied Step(long step) => new(1, 0, step, 0, false, 0.01, Loss: 1.0 / step, Samples: 8, Seconds: 0.001);
        job.Answer(0, new StepsApplied(1, [Step(2), Step(3), Step(4)]));
        job.Answer(0, new StepsApplied(1, [Step(5), Step(6), Step(7), Step(8), Step(9)]));
        job.Answer(0, Step(10));

        var save = await job.CheckpointBarrierAsync(10);
        Assert.Equal("schedule", save.Reason.ToString(), ignoreCase: true);
        var steps = new List<long>();
        await job.Reporter.FishForMessageAsync(m =>
        {
            if (m is ProgressStep step)
            {
                steps.Add(step.Step.Iteration);
            }
            return m is ProgressStep { Step.Iteration: 10 };
        }, ScriptedJob.Wait);
        Assert.Equal(Enumerable.Range(1, 10).Select(i => (long)i), steps);
    }

    [Fact]
    public async Task Replicas_whose_weights_differ_at_a_checkpoint_fail_the_rank_that_differs_from_rank_0()
    {
        var spec = ScriptedSpec("diverged", ranks: 3, steps: 2);
        var job = Run(spec);
        await job.StartAllAsync();
        await job.StepAsync(1, epochEnded: true);
        for (var rank = 0; rank < 3; rank++)
        {
            await job.Ranks[rank].ExpectMsgAsync<ExportBuffers>(ScriptedJob.Wait);
            job.Answer(rank, new BuffersExported(1, rank, 1, []));
        }
        var drifted = new string('b', 64);
        for (var rank = 0; rank < 3; rank++)
        {
            await job.Ranks[rank].ExpectMsgAsync<ImportBuffers>(ScriptedJob.Wait);
            job.Answer(rank, new BuffersImported(1, rank, 1, rank == 2 ? drifted : ScriptedJob.Weights));
        }

        var starts = await job.StartAllAsync();
        Assert.All(starts, start => Assert.Equal(new StartRank(2, null, null, false, false), start));
        var events = await EventsAsync(spec);
        var failure = Assert.Single(events.OfType<RankFailed>());
        Assert.Equal((2, $"replica of rank 2 diverged from rank 0 at step 1 (weights bbbbbbbbbbbb vs {ScriptedJob.Weights[..12]})"), (failure.Rank, failure.Reason));
        Assert.Empty(events.OfType<CheckpointCommitted>()); // nothing is saved from replicas that disagree
    }

    [Fact]
    public async Task Replicas_whose_weights_differ_after_start_fail_the_rank_that_differs()
    {
        var spec = ScriptedSpec("start-diverged", ranks: 2, steps: 1);
        var job = Run(spec);
        await job.ExpectStartAsync(0);
        await job.ExpectStartAsync(1);
        job.Ready(0, 0);
        job.Answer(1, new RankReady(1, 1, 0, 100, new string('c', 64), []));

        await job.StartAllAsync();
        Assert.Equal(2, job.Generation);
        await job.StepAsync(1);
        Assert.Equal(JobOutcome.Completed, (await job.CompleteAsync(1)).Outcome);
        var failure = Assert.Single((await EventsAsync(spec)).OfType<RankFailed>());
        Assert.Equal((1, "replica of rank 1 does not match rank 0 after start"), (failure.Rank, failure.Reason));
    }
}
