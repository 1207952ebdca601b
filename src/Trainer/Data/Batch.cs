using static TorchSharp.torch;

namespace Orchestrator.Trainer.Data;

/// <summary>One batch of inputs and targets; owned by whoever asked for it.</summary>
public sealed class Batch(Tensor input, Tensor target) : IDisposable
{
    public Tensor Input { get; } = input;
    public Tensor Target { get; } = target;
    public long Size => Input.shape[0];

    public void Dispose()
    {
        Input.Dispose();
        Target.Dispose();
    }
}
