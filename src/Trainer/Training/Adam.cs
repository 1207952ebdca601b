using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Training;

/// <summary>
/// TorchSharp's Adam with the same arithmetic, in the same order, but every scalar it passes to libtorch kept
/// alive until the call returns. TorchSharp 0.107's step converts doubles to <see cref="Scalar"/>s inline;
/// such a temporary is unreachable while libtorch still reads it, so a garbage collection on another thread
/// can finalize (free) it mid-call, and the step fails with libtorch's "Expected false to be true" from
/// Scalar::toDouble, or reads a wrong value. The class name stays <c>Adam</c>: TorchSharp's state dicts
/// record the optimizer's type name, so checkpoints of either load into the other.
/// </summary>
public sealed class Adam : TorchSharp.Modules.Adam
{
    public Adam(IEnumerable<TorchSharp.Modules.Parameter> parameters, double lr, double weightDecay = 0, bool amsgrad = false, bool maximize = false)
        : base(parameters, lr, weight_decay: weightDecay, amsgrad: amsgrad, maximize: maximize)
    {
    }

    public override Tensor step(Func<Tensor>? closure = null) => _step<ParamGroup>(group =>
    {
        var options = group.Options;
        var beta1 = options.beta1!.Value;
        var beta2 = options.beta2!.Value;
        var weightDecay = options.weight_decay!.Value;
        var amsgrad = options.amsgrad!.Value;
        var maximize = options.maximize!.Value;
        var lr = options.LearningRate!.Value;
        using var beta1Scalar = beta1.ToScalar();
        using var oneMinusBeta1 = (1 - beta1).ToScalar();
        using var beta2Scalar = beta2.ToScalar();
        using var oneMinusBeta2 = (1 - beta2).ToScalar();
        using var eps = options.eps!.Value.ToScalar();
        using var weightDecayScalar = weightDecay.ToScalar();
        // add_(Scalar) would otherwise make its alpha of 1 inline, a temporary like the ones above.
        using var one = 1.0.ToScalar();
        foreach (var param in group.Parameters)
        {
            var state = (State)_state[param.Handle];
            var grad = param.grad;
            if (grad is null)
            {
                continue;
            }
            if (maximize)
            {
                grad = -grad;
            }
            state.step += 1;
            var biasCorrection1 = 1 - Math.Pow(beta1, state.step);
            var biasCorrection2 = 1 - Math.Pow(beta2, state.step);
            if (weightDecay != 0)
            {
                grad = grad.add(param, alpha: weightDecayScalar);
            }
            state.exp_avg.mul_(beta1Scalar).add_(grad, alpha: oneMinusBeta1);
            state.exp_avg_sq.mul_(beta2Scalar).addcmul_(grad, grad.conj(), value: oneMinusBeta2);
            using var sqrtBiasCorrection2 = Math.Sqrt(biasCorrection2).ToScalar();
            Tensor denominator;
            if (amsgrad)
            {
                var previous = state.max_exp_avg_sq;
                state.max_exp_avg_sq = maximum(previous, state.exp_avg_sq).DetachFromDisposeScope();
                previous.Dispose();
                denominator = state.max_exp_avg_sq.sqrt().div_(sqrtBiasCorrection2).add_(eps, alpha: one);
            }
            else
            {
                denominator = state.exp_avg_sq.sqrt().div_(sqrtBiasCorrection2).add_(eps, alpha: one);
            }
            using var stepSize = (-(lr / biasCorrection1)).ToScalar();
            param.addcdiv_(state.exp_avg, denominator, value: stepSize);
        }
    }, closure);
}
