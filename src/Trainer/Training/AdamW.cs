using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Training;

/// <summary>
/// TorchSharp's AdamW (decoupled weight decay) with the same arithmetic in the same order, every scalar held
/// until libtorch returns (see <see cref="Adam"/> for the race this avoids). The class name stays <c>AdamW</c>
/// so that state dicts of either load into the other.
/// </summary>
public sealed class AdamW : TorchSharp.Modules.AdamW
{
    public AdamW(IEnumerable<TorchSharp.Modules.Parameter> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 0, bool amsgrad = false, bool maximize = false)
        : base(parameters, lr, beta1, beta2, eps, weightDecay, amsgrad, maximize)
    {
    }

    /// <summary>Several parameter groups, each with its own options (unset ones take these defaults).</summary>
    public AdamW(IEnumerable<ParamGroup> groups, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 0, bool amsgrad = false, bool maximize = false)
        : base(groups, lr, beta1, beta2, eps, weightDecay, amsgrad, maximize)
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
        using var decay = (1 - (lr * weightDecay)).ToScalar();
        foreach (var (param, grad) in StepGradients.Of(group.Parameters, maximize))
        {
            var state = (State)_state[param.Handle];
            state.step += 1;
            param.mul_(decay);
            update.Apply(param, grad, grad, state.exp_avg, state.exp_avg_sq, ref state.max_exp_avg_sq, state.step, lr, amsgrad);
        }
    }, closure);
}
