using Orchestrator.Trainer.Tensors;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Checkpointing;

/// <summary>The default torch generator's state (dropout, random init after resume).</summary>
public sealed class RngCheckpointable : ICheckpointable
{
    private const string Key = "torch_cpu_generator";

    public ComponentState Capture()
    {
        using var state = random.get_rng_state();
        return new ComponentState([KeyValuePair.Create(Key, HostTensor.Copy(state))], null, null);
    }

    public IReadOnlyList<string> Restore(ComponentState state)
    {
        var saved = state.Tensors.SingleOrDefault(t => t.Key == Key).Value
            ?? throw new InvalidDataException("checkpoint has no torch generator state");
        using var tensor = saved.ToTensor();
        random.set_rng_state(tensor);
        return [];
    }
}
