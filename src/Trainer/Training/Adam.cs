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
        var weightDecay = options.weight_decay!.Value;
        var amsgrad = options.amsgrad!.Value;
        var maximize = options.maximize!.Value;
        var lr = options.LearningRate!.Value;
        using var update = new AdamUpdate(options.beta1!.Value, options.beta2!.Value, options.eps!.Value);
        using var weightDecayScalar = weightDecay.ToScalar();
        foreach (var (param, gradient) in StepGradients.Of(group.Parameters, maximize))
        {
            var state = (State)_state[param.Handle];
            var grad = gradient;
            state.step += 1;
            if (weightDecay != 0)
            {
                grad = grad.add(param, alpha: weightDecayScalar);
            }
            update.Apply(param, grad, grad.conj(), state.exp_avg, state.exp_avg_sq, ref state.max_exp_avg_sq, state.step, lr, amsgrad);
        }
    }, closure);
}
