using Orchestrator.Trainer.Checkpointing;
using Orchestrator.Trainer.Distributed;
using Orchestrator.Trainer.Jobs;
using Orchestrator.Trainer.Tensors;
using Orchestrator.Trainer.Tests.Support;
using Orchestrator.Trainer.Training;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Tests.Training;

/// <summary>
/// Resume equivalence for one job using everything at once (fulljob: accumulation of 3, clipping, AdamW with two
/// groups, CosineAnnealingLR, dropout from a per-rank step generator). The SIGKILL version of this runs the
/// same job from its assembly in Orchestrator.Tests.
/// </summary>
public sealed class FullJobResumeTests : IDisposable
{
    private const long Steps = 30;
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData("cosine", "adamw")]
    [InlineData("onecycle", "adamw")]
    [InlineData("step", "sgd")]
    [InlineData("linear", "rmsprop")]
    public void Stopping_at_random_steps_and_resuming_ends_with_identical_weights(string scheduler, string optimizer)
    {
        var factory = FullJobs.Factory(("scheduler", scheduler), ("optimizer", optimizer));
        var straight = TrainingRun.Execute(factory, Options(_temp.Sub("straight"), Steps));

        var split = _temp.Sub("split");
        var stops = RandomStops(seed: scheduler.Length + optimizer.Length, count: 3);
        foreach (var stop in stops)
        {
            TrainingRun.Execute(factory, Options(split, stop));
        }
        var resumed = TrainingRun.Execute(factory, Options(split, Steps));

        Assert.Equal(straight.WeightsSha256, resumed.WeightsSha256);
        Assert.EndsWith($"iter_{stops[^1]}", resumed.ResumedFrom);
    }

    [Fact]
    public void Two_data_parallel_replicas_with_rank_seeds_resume_from_rank_0s_checkpoint_exactly()
    {
        var straight = TrainTwoRanks(restoreAt: null);

        var resumed = TrainTwoRanks(restoreAt: 7);

        Assert.Equal(straight, resumed);
    }

    private static RunOptions Options(string workDir, long steps) => Runs.Options(workDir, steps, every: 4);

    private static long[] RandomStops(int seed, int count)
    {
        var random = new Random(seed); // the stops are arbitrary, but the same on every run of the test
        return Enumerable.Range(0, count).Select(_ => (long)random.Next(1, (int)Steps)).Distinct().Order().ToArray();
    }

    /// <summary>
    /// What RankWorker does, with two replicas in this thread: each computes on its shard, the gradients are
    /// averaged, each applies the average (and clips it). At <paramref name="restoreAt"/> both are rebuilt
    /// from rank 0's checkpoint, as a restarted job is. Returns both replicas' final digests.
    /// </summary>
    private (string, string) TrainTwoRanks(int? restoreAt)
    {
        var store = new CheckpointStore(_temp.Sub($"ranks-{restoreAt}"), new CheckpointNaming());
        var (jobs, states) = StartRanks();
        try
        {
            for (var step = 0; step < 12; step++)
            {
                if (step == restoreAt)
                {
                    store.Commit(states[0].Capture("test", 1).Complete());
                    Dispose(jobs, states);
                    (jobs, states) = StartRanks();
                    var checkpoint = store.Load(store.List()[0].Path);
                    Assert.All(states, s => Assert.Empty(s.Resume(checkpoint).Describe(checkpoint.Name)));
                }
                var local = states.Select(s => s.ComputeGradients()).ToList();
                var gradients = jobs.Select(j => FlatFloats.Gather(j.Model.parameters().Select(p => (Tensor)p).ToList(), FlatPart.Gradients)).ToList();
                var averaged = GradientAverager.Average(gradients);
                for (var rank = 0; rank < 2; rank++)
                {
                    FlatFloats.Scatter(averaged, jobs[rank].Model.parameters().Select(p => (Tensor)p).ToList(), FlatPart.Gradients);
                    states[rank].ApplyStep(local.Sum(l => l.Samples));
                }
            }
            return (WeightsDigest.Of(jobs[0].Model), WeightsDigest.Of(jobs[1].Model));
        }
        finally
        {
            Dispose(jobs, states);
        }
    }

    private static (List<TrainingJob>, List<TrainingState>) StartRanks()
    {
        var jobs = new List<TrainingJob>();
        var states = new List<TrainingState>();
        for (var rank = 0; rank < 2; rank++)
        {
            var job = FullJobs.Create(rank, worldSize: 2);
            jobs.Add(job);
            states.Add(new TrainingState(job, FullJobs.Seed, ModelLoadOptions.Default, rank));
        }
        return (jobs, states);
    }

    private static void Dispose(List<TrainingJob> jobs, List<TrainingState> states)
    {
        foreach (var state in states)
        {
            state.WaitForCapture();
        }
        jobs.ForEach(j => j.Dispose());
        jobs.Clear();
        states.Clear();
    }
}
