using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Training;

/// <summary>
/// TorchSharp's RMSprop (alpha, eps, momentum, centered, weight decay) with the same arithmetic in the same
/// order, every scalar held until libtorch returns (see <see cref="Adam"/> for the race this avoids). The
/// class name stays TorchSharp's <c>RMSProp</c> so that state dicts of either load into the other.
/// </summary>
public sealed class RMSProp : TorchSharp.Modules.RMSProp
{
    public RMSProp(IEnumerable<TorchSharp.Modules.Parameter> parameters, double lr = 1e-3, double alpha = 0.99, double eps = 1e-8, double weightDecay = 0, double momentum = 0, bool centered = false, bool maximize = false)
        : base(parameters, lr, alpha, eps, weightDecay, momentum, centered, maximize)
    {
    }

    /// <summary>Several parameter groups, each with its own options (unset ones take these defaults).</summary>
    public RMSProp(IEnumerable<ParamGroup> groups, double lr = 1e-3, double alpha = 0.99, double eps = 1e-8, double weightDecay = 0, double momentum = 0, bool centered = false, bool maximize = false)
        : base(groups, lr, alpha, eps, weightDecay, momentum, centered, maximize)
    {
    }

    public override Tensor step(Func<Tensor>? closure = null) => _step<ParamGroup>(group =>
    {
        var options = group.Options;
        var maximize = options.maximize!.Value;
        var momentum = options.momentum!.Value;
        var alpha = options.alpha!.Value;
        var weightDecay = options.weight_decay!.Value;
        var centered = options.centered!.Value;
        var lr = options.LearningRate!.Value;
        using var alphaScalar = alpha.ToScalar();
        using var oneMinusAlpha = (1 - alpha).ToScalar();
        using var eps = options.eps!.Value.ToScalar();
        using var weightDecayScalar = weightDecay.ToScalar();
        using var momentumScalar = momentum.ToScalar();
        using var minusLr = (-lr).ToScalar();
        using var minusOne = (-1.0).ToScalar();
        using var one = 1.0.ToScalar(); // the alpha and value that add_ and addcdiv_ would otherwise make inline
        foreach (var (param, gradient) in StepGradients.Of(group.Parameters, maximize))
        {
            var state = (State)_state[param.Handle];
            var grad = gradient;
            state.step += 1;
            if (weightDecay != 0)
            {
                grad = grad.add(param, alpha: weightDecayScalar);
            }
            state.square_avg.mul_(alphaScalar).addcmul_(grad, grad, value: oneMinusAlpha);
            Tensor average;
            if (centered)
            {
                state.grad_avg.mul_(alphaScalar).add_(grad, alpha: oneMinusAlpha);
                average = state.square_avg.addcmul(state.grad_avg, state.grad_avg, value: minusOne).sqrt_().add_(eps, alpha: one);
            }
            else
            {
                average = state.square_avg.sqrt().add_(eps, alpha: one);
            }
            if (momentum > 0)
            {
                state.momentum_buffer.mul_(momentumScalar).addcdiv_(grad, average, value: one);
                param.add_(state.momentum_buffer, alpha: minusLr);
            }
            else
            {
                param.addcdiv_(grad, average, value: minusLr);
            }
        }
    }, closure);
}
