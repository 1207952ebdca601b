using Akka.Actor;
using Orchestrator.Actors.Job;
using Orchestrator.Actors.Protocol;
using Orchestrator.Actors.Tests.Support;

namespace Orchestrator.Actors.Tests.Job.Protocol;

/// <summary>
/// Ranks replaced after a failure keep talking for a while (their threads finish what they held): every
/// answer names its generation, and answers of a replaced generation must change nothing.
/// </summary>
public sealed class StaleGenerationTests : SupervisorProtocolKit
{
    [Fact]
    public async Task Late_failures_readies_gradients_and_step_ends_of_a_replaced_generation_change_nothing()
    {
        var spec = ScriptedSpec("stale", ranks: 2, steps: 3);
        var job = Run(spec);
        await job.StartAllAsync();
        await job.StepAsync(1);
        await job.ComputeAsync(2);
        job.SendGradients(0, 2);
        job.Answer(1, new RankWorkFailed(1, 1, 2, "segmentation fault"));
        const int replaced = 1;

        for (var rank = 0; rank < 2; rank++)
        {
            await job.ExpectStartAsync(rank);
        }
        Assert.Equal(2, job.Generation);
        // While the new generation starts: the old rank 0 fails too, and the old rank 1 reports ready.
        job.Supervisor.Tell(new RankWorkFailed(replaced, 0, 2, "rank 0 lost its peer"));
        job.Supervisor.Tell(new RankReady(replaced, 1, 1, 100, ScriptedJob.Weights, []));
        job.Ready(0, 0);
        job.Ready(1, 0);

        await job.ComputeAsync(1);
        // While the new generation steps: the old ranks' gradients of the abandoned step, and their step ends.
        var stale = new float[] { 1000, 1000, 1000 };
        job.Supervisor.Tell(new GradientChunk(replaced, 1, 1, 0, 1, stale.Length, new ArraySegment<float>(stale), 1, 8));
        job.Supervisor.Tell(new StepApplied(replaced, 0, 1, 0, false, 0.01));
        job.Supervisor.Tell(new StepApplied(replaced, 1, 1, 0, false, 0.01));
        job.SendGradients(0, 1);
        job.SendGradients(1, 1);
        var averaged = await job.AveragesAsync(1);
        Assert.Equal([1.5f, 15f, 1f], averaged); // the mean of this generation's two ranks only
        job.Applied(0, 1);
        job.Applied(1, 1);
        await job.StepAsync(2);
        await job.StepAsync(3);
        var finished = await job.CompleteAsync(3);

        Assert.Equal(JobOutcome.Completed, finished.Outcome);
        Assert.Equal(3, finished.Step);
        var events = await EventsAsync(spec);
        var failure = Assert.Single(events.OfType<RankFailed>());
        Assert.Equal((1, 1), (failure.Generation, failure.Rank));
        Assert.Single(events.OfType<RestartScheduled>());
        Assert.Equal([1, 2], events.OfType<RanksStarted>().Select(r => r.Generation));
    }

    [Fact]
    public async Task Step_reports_reach_the_reporter_once_per_step_and_generation_despite_stale_step_ends()
    {
        var spec = ScriptedSpec("reports", ranks: 2, steps: 2);
        var job = Run(spec);
        await job.StartAllAsync();
        await job.ComputeAsync(1);
        job.Answer(0, new RankWorkFailed(1, 0, 1, "killed"));
        await job.StartAllAsync();

        // Both old ranks end the step they were on, after their replacements started.
        job.Supervisor.Tell(new StepApplied(1, 0, 1, 0, false, 0.01));
        job.Supervisor.Tell(new StepApplied(1, 1, 1, 0, false, 0.01));
        await job.StepAsync(1);
        await job.StepAsync(2);
        await job.CompleteAsync(2);

        var steps = new List<long>();
        await job.Reporter.FishForMessageAsync(m =>
        {
            if (m is ProgressStep step)
            {
                steps.Add(step.Step.Iteration);
            }
            return m is ProgressSaved;
        }, ScriptedJob.Wait);
        Assert.Equal([1L, 2L], steps);
    }

    [Fact]
    public async Task Buffers_digests_and_captures_of_a_replaced_generation_do_not_enter_the_next_checkpoint()
    {
        var spec = ScriptedSpec("stale-checkpoint", ranks: 2, steps: 2);
        var job = Run(spec);
        await job.StartAllAsync();
        await job.ComputeAsync(1);
        job.Answer(1, new RankWorkFailed(1, 1, 1, "illegal instruction"));
        await job.StartAllAsync();
        await job.StepAsync(1, epochEnded: true);
        const int replaced = 1;

        for (var rank = 0; rank < 2; rank++)
        {
            await job.Ranks[rank].ExpectMsgAsync<ExportBuffers>(e => e.Generation == 2, ScriptedJob.Wait);
        }
        job.Supervisor.Tell(new BuffersExported(replaced, 1, 1, [1000f]));
        job.Answer(0, new BuffersExported(2, 0, 1, [0f]));
        job.Answer(1, new BuffersExported(2, 1, 1, [2f]));
        for (var rank = 0; rank < 2; rank++)
        {
            var import = await job.Ranks[rank].ExpectMsgAsync<ImportBuffers>(ScriptedJob.Wait);
            Assert.Equal([1f], import.Values); // the mean of this generation's buffers only
        }
        job.Supervisor.Tell(new BuffersImported(replaced, 1, 1, new string('d', 64))); // would be a divergence
        job.Supervisor.Tell(new CheckpointCaptured(replaced, 1, 0)); // would end the round before the save
        job.Answer(0, new BuffersImported(2, 0, 1, ScriptedJob.Weights));
        job.Answer(1, new BuffersImported(2, 1, 1, ScriptedJob.Weights));
        var save = await job.Ranks[0].ExpectMsgAsync<SaveCheckpoint>(ScriptedJob.Wait);
        Assert.Equal((2, 1L), (save.Generation, save.Step));
        job.Captured(save);
        job.Written(save);
        await job.StepAsync(2);
        Assert.Equal(JobOutcome.Completed, (await job.CompleteAsync(2)).Outcome);

        var events = await EventsAsync(spec);
        Assert.Single(events.OfType<RankFailed>());
        Assert.Equal([1L, 2L], events.OfType<CheckpointCommitted>().Select(c => c.Step));
    }
}
