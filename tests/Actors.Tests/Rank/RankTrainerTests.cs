using Akka.Actor;
using Akka.TestKit.Xunit2;
using Orchestrator.Actors.Gradients;
using Orchestrator.Actors.Protocol;
using Orchestrator.Actors.Rank;
using Orchestrator.Trainer.Checkpointing;
using Orchestrator.Trainer.Distributed;
using Orchestrator.Trainer.Jobs;
using Orchestrator.Trainer.Training;

namespace Orchestrator.Actors.Tests.Rank;

public sealed class RankTrainerTests : TestKit, IDisposable
{
    private readonly TempDirectory _temp = new();

    void IDisposable.Dispose()
    {
        Shutdown();
        _temp.Dispose();
    }

    [Fact]
    public async Task Only_rank_0_writes_checkpoints_another_rank_refuses_and_writes_nothing()
    {
        var checkpoints = _temp.Sub("checkpoints");
        var spec = new RankSpec(MlpJob.Name, new BuiltInJobOptions { Samples = 256 }, 1, 2, 1, checkpoints, "iter_{n}", 0);
        var rank = Sys.ActorOf(RankTrainer.Props(spec, TestActor));

        rank.Tell(new StartRank(1, null, null, false, false));
        var ready = await ExpectMsgAsync<RankReady>(TimeSpan.FromMinutes(1));
        rank.Tell(new SaveCheckpoint(1, 0, "forced", Blocking: true));
        var refused = await ExpectMsgAsync<RankWorkFailed>(TimeSpan.FromMinutes(1));

        Assert.Equal(1, ready.Rank);
        Assert.Equal("rank 1 cannot save: only rank 0 writes checkpoints", refused.Reason);
        Assert.False(Directory.Exists(checkpoints) && Directory.EnumerateFileSystemEntries(checkpoints).Any());
    }

    [Fact]
    public async Task A_rank_restoring_a_partial_checkpoint_tells_what_it_left_unused_on_start_and_on_reload()
    {
        var options = new BuiltInJobOptions { Samples = 256 };
        var workDir = _temp.Sub("partial");
        // A checkpoint of the same job with one component more than the rank's replica has.
        var saved = TrainingRun.Execute(() =>
        {
            var plain = JobCatalog.Factory(MlpJob.Name, options)();
            var extra = 5;
            return new TrainingJob
            {
                Name = plain.Name, Model = plain.Model, Optimizer = plain.Optimizer, Data = plain.Data, Loss = plain.Loss, LearningRate = plain.LearningRate,
                ExtraCheckpointables = new Dictionary<string, ICheckpointable> { ["sampler"] = new JsonCheckpointable<int>(() => extra, v => extra = v) },
            };
        }, new RunOptions { WorkDir = workDir, Steps = 3, Threads = 1 });
        var checkpoints = Path.Combine(workDir, "checkpoints");
        var path = Path.Combine(checkpoints, saved.Saves[^1].Name);
        var spec = new RankSpec(MlpJob.Name, options, 0, 1, 1, checkpoints, "iter_{n}", 0);
        var rank = Sys.ActorOf(RankTrainer.Props(spec, TestActor));

        rank.Tell(new StartRank(1, path, null, false, false));
        var started = await ExpectMsgAsync<RankReady>(TimeSpan.FromMinutes(1));
        rank.Tell(new ReloadCheckpoint(1, path));
        var reloaded = await ExpectMsgAsync<RankReady>(TimeSpan.FromMinutes(1));

        Assert.Contains(started.Notes, n => n.Contains("holds sampler, which this job does not use", StringComparison.Ordinal));
        Assert.Equal(started.Notes, reloaded.Notes);
    }

    [Fact]
    public async Task Gradients_travel_in_chunks_that_reassemble_to_the_whole()
    {
        var spec = new RankSpec(CharLmJob.Name, new BuiltInJobOptions { Samples = 3000, Width = 800 }, 0, 1, 1, _temp.Sub("c"), "iter_{n}", 0);
        var rank = Sys.ActorOf(RankTrainer.Props(spec, TestActor));
        rank.Tell(new StartRank(1, null, null, false, false));
        await ExpectMsgAsync<RankReady>(TimeSpan.FromMinutes(1));

        rank.Tell(new ComputeGradients(1, 1, null));
        var first = await ExpectMsgAsync<GradientChunk>(TimeSpan.FromMinutes(1));
        var chunks = new List<GradientChunk> { first };
        for (var i = 1; i < first.Count; i++)
        {
            chunks.Add(await ExpectMsgAsync<GradientChunk>(TimeSpan.FromMinutes(1)));
        }

        Assert.True(first.Count > 1, "the model is large enough to need several chunks");
        Assert.Equal(first.TotalLength, chunks.Sum(c => c.Values.Count));
        Assert.Equal(Enumerable.Range(0, first.Count), chunks.Select(c => c.Index));
    }

    [Fact]
    public async Task A_rank_stepping_alone_reports_every_step_once_in_order_batched_with_the_last_one_alone()
    {
        var spec = new RankSpec(MlpJob.Name, new BuiltInJobOptions { Samples = 256 }, 0, 1, 1, _temp.Sub("alone"), "iter_{n}", 0);
        var rank = Sys.ActorOf(RankTrainer.Props(spec, TestActor));
        rank.Tell(new StartRank(1, null, null, false, false));
        await ExpectMsgAsync<RankReady>(TimeSpan.FromMinutes(1));

        rank.Tell(new ComputeGradients(1, 1, null, Alone: true, Through: 200));
        var reported = new List<StepApplied>();
        var batches = 0;
        StepApplied? alone = null;
        while (reported.Count == 0 || reported[^1].Step < 200)
        {
            switch (await ExpectMsgAsync<object>(TimeSpan.FromMinutes(1)))
            {
                case StepsApplied batch:
                    batches++;
                    Assert.Equal(1, batch.Generation);
                    reported.AddRange(batch.Steps);
                    break;
                case StepApplied last:
                    alone = last;
                    reported.Add(last);
                    break;
            }
        }

        Assert.Equal(Enumerable.Range(1, 200).Select(i => (long)i), reported.Select(s => s.Step));
        Assert.All(reported, s => Assert.True(s.Seconds > 0 && double.IsFinite(s.Loss), $"step {s.Step}: {s.Seconds} s, loss {s.Loss}"));
        Assert.Equal(200, alone?.Step); // the answer the supervisor waits for at the window's end
        Assert.InRange(batches, 1, 199); // fewer messages than steps
    }
}
