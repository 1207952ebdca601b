using Orchestrator.Trainer.Checkpointing;
using Orchestrator.Trainer.Jobs;
using Orchestrator.Trainer.Tensors;
using Orchestrator.Trainer.Tests.Support;
using Orchestrator.Trainer.Training;

namespace Orchestrator.Trainer.Tests.Training;

public sealed class RankSeedTests
{
    [Fact]
    public void Step_seeds_depend_on_seed_rank_iteration_and_micro_batch_only()
    {
        var seed = StepSeeds.For(3, 1, 10, 2);

        Assert.Equal(seed, StepSeeds.For(3, 1, 10, 2));
        Assert.All(new[] { StepSeeds.For(4, 1, 10, 2), StepSeeds.For(3, 0, 10, 2), StepSeeds.For(3, 1, 11, 2), StepSeeds.For(3, 1, 10, 1) },
            other => Assert.NotEqual(seed, other));
        Assert.True(seed >= 0);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Ranks_start_from_the_same_weights_and_draw_dropout_by_rank_only_when_asked(bool diffRankSeed)
    {
        // Both replicas read rank 0's data, so only the dropout draws, seeded by the loop's rank, can tell them apart.
        (string, string)[] args = [("diffRankSeed", diffRankSeed ? "true" : "false"), ("clipGradientNorm", "0")];
        using var rank0 = FullJobs.Create(rank: 0, args: args);
        using var rank1 = FullJobs.Create(rank: 0, args: args);
        var state0 = new TrainingState(rank0, FullJobs.Seed, ModelLoadOptions.Default, rank: 0);
        var state1 = new TrainingState(rank1, FullJobs.Seed, ModelLoadOptions.Default, rank: 1);

        Assert.Equal(WeightsDigest.Of(rank0.Model), WeightsDigest.Of(rank1.Model));
        var (loss0, _) = state0.ComputeGradients();
        var (loss1, _) = state1.ComputeGradients();

        Assert.Equal(!diffRankSeed, loss0 == loss1);
    }

    [Fact]
    public void Per_rank_seeds_need_the_jobs_own_generator()
    {
        using var job = FullJobs.Create();
        var broken = new TrainingJob
        {
            Name = job.Name, Model = job.Model, Optimizer = job.Optimizer, Data = job.Data, Loss = job.Loss, DiffRankSeed = true,
        };

        var error = Assert.Throws<ArgumentException>(() => new TrainingState(broken, FullJobs.Seed, ModelLoadOptions.Default));
        Assert.Contains("Random", error.Message, StringComparison.Ordinal);
    }
}
