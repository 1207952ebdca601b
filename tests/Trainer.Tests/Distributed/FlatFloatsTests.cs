using Orchestrator.Trainer.Distributed;
using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Tests.Distributed;

public sealed class FlatFloatsTests
{
    [Fact]
    public void Gradients_go_out_and_come_back_in_parameter_order_and_the_parameters_keep_them()
    {
        using var first = nn.Parameter(zeros(2, 3));
        using var second = nn.Parameter(zeros(4));
        SetGradients(first, second);
        Tensor[] parameters = [first, second];

        var flat = FlatFloats.Gather(parameters, FlatPart.Gradients);

        Assert.Equal([0f, 1, 2, 3, 4, 5, 10, 11, 12, 13], flat);
        FlatFloats.Scatter(flat.Select(v => v * 2).ToArray(), parameters, FlatPart.Gradients);
        using var firstGrad = first.grad!;
        using var secondGrad = second.grad!;
        Assert.Equal([0f, 2, 4, 6, 8, 10], firstGrad.data<float>().ToArray());
        Assert.Equal([20f, 22, 24, 26], secondGrad.data<float>().ToArray());
    }

    [Fact]
    public void A_missing_gradient_reads_as_zeros_and_is_created_on_the_way_back()
    {
        using var parameter = nn.Parameter(ones(3));
        Tensor[] parameters = [parameter];

        Assert.Equal([0f, 0, 0], FlatFloats.Gather(parameters, FlatPart.Gradients));
        FlatFloats.Scatter(new float[] { 1, 2, 3 }, parameters, FlatPart.Gradients);

        using var grad = parameter.grad!;
        Assert.Equal([1f, 2, 3], grad.data<float>().ToArray());
    }

    [Fact]
    public void A_gathered_array_of_the_right_length_is_reused()
    {
        using var parameter = nn.Parameter(zeros(4));
        SetGradients(parameter);
        var reuse = new float[4];

        var flat = FlatFloats.Gather([parameter], FlatPart.Gradients, reuse);

        Assert.Same(reuse, flat);
        Assert.Equal([0f, 1, 2, 3], flat);
    }

    [Fact]
    public void A_step_of_gradients_through_the_flat_array_leaves_no_tensor_wrapper_alive()
    {
        using var first = nn.Parameter(zeros(64, 32));
        using var second = nn.Parameter(zeros(32));
        SetGradients(first, second);
        Tensor[] parameters = [first, second];
        var flat = FlatFloats.Gather(parameters, FlatPart.Gradients);
        var statistics = DisposeScopeManager.Statistics.TensorStatistics;
        var before = statistics.ThreadTotalLiveCount;

        for (var step = 0; step < 10; step++)
        {
            flat = FlatFloats.Gather(parameters, FlatPart.Gradients, flat);
            FlatFloats.Scatter(flat, parameters, FlatPart.Gradients);
        }

        // Each access to .grad makes a wrapper; left to the finalizer, two ranks' worth were most of a step's garbage.
        Assert.Equal(before, statistics.ThreadTotalLiveCount);
    }

    [Fact]
    public void Values_of_a_non_contiguous_tensor_are_read_and_written_in_its_logical_order()
    {
        using var storage = arange(6, ScalarType.Float32).reshape(2, 3);
        using var transposed = storage.t(); // 3 x 2, not contiguous
        Tensor[] buffers = [transposed];

        var flat = FlatFloats.Gather(buffers, FlatPart.Values);
        Assert.Equal([0f, 3, 1, 4, 2, 5], flat);

        FlatFloats.Scatter(new float[] { 10, 13, 11, 14, 12, 15 }, buffers, FlatPart.Values);
        Assert.Equal([10f, 11, 12, 13, 14, 15], storage.data<float>().ToArray());
    }

    private static void SetGradients(params Tensor[] parameters)
    {
        var next = 0f;
        foreach (var parameter in parameters)
        {
            using var values = arange(next, next + parameter.numel(), 1f, ScalarType.Float32).reshape(parameter.shape);
            using var noGrad = no_grad();
            parameter.grad = values.clone();
            next += 10;
        }
    }
}
