using Orchestrator.Trainer.Checkpointing;
using Orchestrator.Trainer.Tests.Support;
using Orchestrator.Trainer.Training;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Tests.Training;

public sealed class GradientClippingTests
{
    [Fact]
    public void Gradients_above_the_norm_are_scaled_down_to_it_together()
    {
        using var first = GradientOf([3f]);
        using var second = GradientOf([4f]);

        var norm = GradientClipping.ClipByGlobalNorm([first, second], 1.0);

        Assert.Equal(5.0, norm, 1e-6);
        Assert.Equal(0.6f, first.grad!.item<float>(), 1e-5f);
        Assert.Equal(0.8f, second.grad!.item<float>(), 1e-5f);
    }

    [Fact]
    public void Gradients_below_the_norm_are_left_bit_for_bit()
    {
        using var parameter = GradientOf([0.3f, -0.4f]);

        var norm = GradientClipping.ClipByGlobalNorm([parameter], 1.0);

        Assert.Equal(0.5, norm, 1e-6);
        Assert.Equal([0.3f, -0.4f], parameter.grad!.data<float>().ToArray());
    }

    [Fact]
    public void A_training_step_clips_before_the_optimizer_and_reports_the_norm_it_saw()
    {
        using var job = FullJobs.Create(args: [("clipGradientNorm", "0.001"), ("accumulateSteps", "1")]);
        var state = new TrainingState(job, FullJobs.Seed, ModelLoadOptions.Default);
        var (_, samples) = state.ComputeGradients();

        state.ApplyStep(samples);

        Assert.True(state.LastGradientNorm > 0.001, $"test needs a gradient larger than the clip, got {state.LastGradientNorm}");
        var clipped = Math.Sqrt(job.Model.parameters().Sum(p => Math.Pow(p.grad!.norm().item<float>(), 2)));
        Assert.Equal(0.001, clipped, 1e-6);
    }

    private static Tensor GradientOf(float[] gradient)
    {
        var parameter = zeros(gradient.Length, requires_grad: true);
        using var weights = tensor(gradient);
        using var product = parameter.mul(weights);
        using var sum = product.sum();
        sum.backward();
        return parameter;
    }
}
