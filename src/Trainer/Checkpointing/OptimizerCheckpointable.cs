using System.Text.Json.Nodes;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Checkpointing;

/// <summary>
/// A TorchSharp optimizer's full state (Adam's step counts and both moments included), kept in TorchSharp's
/// own state-dict format so it stays exact across versions of this program.
/// </summary>
public sealed class OptimizerCheckpointable(optim.Optimizer optimizer, Device device) : ICheckpointable
{
    public ComponentState Capture()
    {
        var helper = AsHelper();
        // Room for every parameter three times over (Adam's two moments and more) up front: growing a
        // MemoryStream by doubling would copy hundreds of megabytes during the training stall.
        var parameterBytes = optimizer.parameters().Sum(p => p.numel() * p.element_size());
        using var memory = new MemoryStream((int)Math.Min(int.MaxValue - 1024, (3 * parameterBytes) + 4096));
        using (var writer = new BinaryWriter(memory, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            helper.save_state_dict(writer);
        }
        return new ComponentState([], memory.ToArray(), new JsonObject { ["type"] = optimizer.GetType().Name });
    }

    public IReadOnlyList<string> Restore(ComponentState state)
    {
        var savedType = state.Metadata?["type"]?.GetValue<string>();
        if (savedType is not null && savedType != optimizer.GetType().Name)
        {
            throw new CheckpointMismatchException($"checkpoint holds {savedType} optimizer state but this job uses {optimizer.GetType().Name}; resume with --no-optimizer-state or use the same optimizer");
        }
        if (state.Blob is null)
        {
            throw new InvalidDataException("checkpoint has no optimizer state");
        }
        var helper = AsHelper();
        using var reader = new BinaryReader(new MemoryStream(state.Blob));
        helper.load_state_dict(reader);
        helper.to(device);
        return [];
    }

    private OptimizerHelper AsHelper() => optimizer as OptimizerHelper
        ?? throw new NotSupportedException($"optimizer {optimizer.GetType().Name} cannot save its state");
}
