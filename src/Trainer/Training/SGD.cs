using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Training;

/// <summary>
/// TorchSharp's SGD (momentum, dampening, Nesterov, weight decay) with the same arithmetic in the same order,
/// every scalar held until libtorch returns (see <see cref="Adam"/> for the race this avoids). The class name
/// stays <c>SGD</c> so that state dicts of either load into the other.
/// </summary>
public sealed class SGD : TorchSharp.Modules.SGD
{
    public SGD(IEnumerable<TorchSharp.Modules.Parameter> parameters, double lr, double momentum = 0, double dampening = 0, double weightDecay = 0, bool nesterov = false, bool maximize = false)
        : base(parameters, lr, momentum, dampening, weightDecay, nesterov, maximize)
    {
    }

    /// <summary>Several parameter groups, each with its own options (unset ones take these defaults).</summary>
    public SGD(IEnumerable<ParamGroup> groups, double lr, double momentum = 0, double dampening = 0, double weightDecay = 0, bool nesterov = false, bool maximize = false)
        : base(groups, lr, momentum, dampening, weightDecay, nesterov, maximize)
    {
    }

    public override Tensor step(Func<Tensor>? closure = null) => _step<ParamGroup>(group =>
    {
        var options = group.Options;
        var momentum = options.momentum!.Value;
        var dampening = options.dampening!.Value;
        var weightDecay = options.weight_decay!.Value;
        var nesterov = options.nesterov!.Value;
        var maximize = options.maximize!.Value;
        var lr = options.LearningRate!.Value;
        using var momentumScalar = momentum.ToScalar();
        using var oneMinusDampening = (1 - dampening).ToScalar();
        using var weightDecayScalar = weightDecay.ToScalar();
        using var alpha = (maximize ? lr : -lr).ToScalar();
        foreach (var param in group.Parameters)
        {
            var state = (State)_state[param.Handle];
            var grad = param.grad;
            if (grad is null)
            {
                continue;
            }
            if (weightDecay != 0)
            {
                grad = grad.add(param, alpha: weightDecayScalar);
            }
            if (momentum != 0)
            {
                var buffer = state.momentum_buffer;
                if (buffer is null)
                {
                    buffer = grad.clone().detach().DetachFromDisposeScope();
                }
                else
                {
                    buffer.mul_(momentumScalar).add_(grad, alpha: oneMinusDampening);
                }
                grad = nesterov ? grad.add(buffer, alpha: momentumScalar) : buffer;
                state.momentum_buffer = buffer;
            }
            param.add_(grad, alpha: alpha);
        }
    }, closure);
}
