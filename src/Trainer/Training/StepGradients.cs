using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Training;

/// <summary>The parameters an optimizer step updates, each with its gradient, as TorchSharp's steps walk them.</summary>
internal static class StepGradients
{
    /// <summary>Parameters without a gradient are skipped; under <paramref name="maximize"/> the gradient is negated.</summary>
    public static IEnumerable<(Parameter Param, Tensor Grad)> Of(IEnumerable<Parameter> parameters, bool maximize)
    {
        foreach (var param in parameters)
        {
            if (param.grad is { } grad)
            {
                yield return (param, maximize ? -grad : grad);
            }
        }
    }
}
