using Orchestrator.Trainer.Jobs;
using Orchestrator.Trainer.Tests.Support;
using Orchestrator.Trainer.Training;

namespace Orchestrator.Trainer.Tests.Training;

/// <summary>In-process resume: the process-kill version of these lives in Orchestrator.Tests.</summary>
public sealed class ResumeEquivalenceTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData(MlpJob.Name)]
    [InlineData(CnnJob.Name)]
    [InlineData(CharLmJob.Name)]
    public void Stopping_and_resuming_at_several_points_ends_with_identical_weights(string job)
    {
        var straight = Runs.Execute(Runs.Options(_temp.Sub("straight"), steps: 60), job);

        var split = _temp.Sub("split");
        foreach (var stopAt in new long[] { 13, 27, 40 })
        {
            Runs.Execute(Runs.Options(split, steps: stopAt), job);
        }
        var resumed = Runs.Execute(Runs.Options(split, steps: 60), job);

        Assert.Equal(straight.WeightsSha256, resumed.WeightsSha256);
        Assert.EndsWith("iter_40", resumed.ResumedFrom);
    }

    [Fact]
    public void Epoch_counted_runs_resume_across_an_epoch_boundary()
    {
        var options = Runs.Options(_temp.Sub("straight"), steps: 1) with { Steps = null, Epochs = 2 };
        var straight = Runs.Execute(options);

        var split = _temp.Sub("split");
        Runs.Execute(options with { WorkDir = split, Epochs = null, Steps = 11 });
        var resumed = Runs.Execute(options with { WorkDir = split });

        Assert.Equal(16, straight.Iteration); // 512 samples / 64 per batch, two epochs
        Assert.Equal(2, resumed.Epoch);
        Assert.Equal(straight.WeightsSha256, resumed.WeightsSha256);
    }

    [Fact]
    public void Synchronous_and_asynchronous_saving_train_the_same_weights()
    {
        var asynchronous = Runs.Execute(Runs.Options(_temp.Sub("async"), steps: 30, every: 5));
        var synchronous = Runs.Execute(Runs.Options(_temp.Sub("sync"), steps: 30, every: 5) with { AsyncSave = false });

        Assert.Equal(asynchronous.WeightsSha256, synchronous.WeightsSha256);
        Assert.Equal(6, asynchronous.Saves.Count);
        Assert.All(asynchronous.Saves, s => Assert.True(s.Stall >= TimeSpan.Zero && s.Bytes > 0));
    }

    [Fact]
    public void A_different_seed_trains_different_weights()
    {
        var one = Runs.Execute(Runs.Options(_temp.Sub("a"), steps: 5));
        var two = Runs.Execute(Runs.Options(_temp.Sub("b"), steps: 5) with { Seed = 4 });

        Assert.NotEqual(one.WeightsSha256, two.WeightsSha256);
    }
}
