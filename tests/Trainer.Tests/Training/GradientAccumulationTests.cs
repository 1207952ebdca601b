using Orchestrator.Trainer.Checkpointing;
using Orchestrator.Trainer.Tests.Support;
using Orchestrator.Trainer.Training;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Tests.Training;

public sealed class GradientAccumulationTests
{
    private static readonly (string, string)[] Plain = [("dropout", "0"), ("clipGradientNorm", "0"), ("samples", "256")];

    [Fact]
    public void Accumulated_micro_batches_average_to_the_gradient_of_their_union()
    {
        // Two micro-batches of 32 read the same 64 samples as one batch of 64 (the shuffle depends on the epoch only).
        using var accumulated = FullJobs.Create(args: [.. Plain, ("accumulateSteps", "2"), ("batchSize", "32")]);
        using var whole = FullJobs.Create(args: [.. Plain, ("accumulateSteps", "1"), ("batchSize", "64")]);
        var accumulatedState = new TrainingState(accumulated, FullJobs.Seed, ModelLoadOptions.Default);
        var wholeState = new TrainingState(whole, FullJobs.Seed, ModelLoadOptions.Default);

        var (accumulatedLoss, accumulatedSamples) = accumulatedState.ComputeGradients();
        var (wholeLoss, wholeSamples) = wholeState.ComputeGradients();

        Assert.Equal(64, accumulatedSamples);
        Assert.Equal(wholeSamples, accumulatedSamples);
        Assert.Equal(wholeLoss, accumulatedLoss, 1e-5);
        foreach (var (a, b) in accumulated.Model.parameters().Zip(whole.Model.parameters()))
        {
            Assert.True(a.grad!.allclose(b.grad!, rtol: 1e-4, atol: 1e-6), "accumulated gradient differs from the whole batch's");
        }
    }

    [Fact]
    public void An_optimizer_step_moves_the_cursor_past_all_its_micro_batches_and_counts_once()
    {
        using var job = FullJobs.Create(args: [.. Plain, ("accumulateSteps", "3"), ("batchSize", "32")]);
        var state = new TrainingState(job, FullJobs.Seed, ModelLoadOptions.Default);

        for (var i = 0; i < 2; i++)
        {
            var (_, samples) = state.ComputeGradients();
            state.ApplyStep(samples);
        }

        Assert.Equal(2, state.Counters.Iteration);
        Assert.Equal(6, state.Cursor.Position);
        Assert.Equal(6 * 32, state.Counters.SamplesSeen);
        Assert.Equal(2, state.StepsPerEpoch); // 256 / 32 = 8 batches, 3 per step
    }

    [Fact]
    public void Fewer_than_one_micro_batch_per_step_is_refused()
    {
        var job = FullJobs.Create(args: [.. Plain, ("accumulateSteps", "0")]);
        try
        {
            var error = Assert.Throws<ArgumentException>(() => new TrainingState(job, FullJobs.Seed, ModelLoadOptions.Default));
            Assert.Contains("AccumulateSteps", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            job.Dispose();
        }
    }
}
