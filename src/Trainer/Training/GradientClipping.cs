using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Training;

/// <summary>
/// Clipping by global norm (PyTorch's clip_grad_norm_ with the 2-norm): every gradient is scaled by
/// max / (norm + 1e-6) when that is below 1, where norm is the 2-norm of all gradients together. The norm is
/// computed in a fixed order on the gradients as they are, so replicas holding the same averaged gradients
/// clip them identically. Its one scalar is held until libtorch returns (see <see cref="Adam"/>).
/// </summary>
public static class GradientClipping
{
    /// <summary>Clips in place; returns the global norm before clipping (0 when no parameter has a gradient).</summary>
    public static double ClipByGlobalNorm(IEnumerable<Tensor> parameters, double maxNorm)
    {
        using var scope = NewDisposeScope();
        var gradients = parameters.Select(p => p.grad).OfType<Tensor>().ToList();
        if (gradients.Count == 0)
        {
            return 0;
        }
        var norms = stack(gradients.Select(g => g.norm()).ToArray());
        double total = norms.norm().item<float>();
        var coefficient = maxNorm / (total + 1e-6);
        if (coefficient < 1)
        {
            using var scale = coefficient.ToScalar();
            foreach (var gradient in gradients)
            {
                gradient.mul_(scale);
            }
        }
        return total;
    }
}
