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
        using var memory = new MemoryStream();
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
