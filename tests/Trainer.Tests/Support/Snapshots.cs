using System.Text.Json.Nodes;
using Orchestrator.Trainer.Checkpointing;
using Orchestrator.Trainer.Tensors;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Tests.Support;

/// <summary>Hand-made snapshots for store tests: a small model, an opaque blob and some metadata.</summary>
public static class Snapshots
{
    public static CheckpointSnapshot At(long iteration, float fill = 1f)
    {
        using var weight = full(new long[] { 4, 3 }, fill);
        using var bias = arange(3, dtype: ScalarType.Float32);
        var model = new ComponentState([KeyValuePair.Create("fc.weight", HostTensor.Copy(weight)), KeyValuePair.Create("fc.bias", HostTensor.Copy(bias))], null, null);
        var optimizer = new ComponentState([], [1, 2, 3, (byte)iteration], new JsonObject { ["type"] = "Adam" });
        var counters = ComponentState.FromJson(new JsonObject { ["iteration"] = iteration });
        var info = new CheckpointInfo("test", iteration, 0, iteration * 8, "", "schedule", DateTimeOffset.UnixEpoch, 1);
        return new CheckpointSnapshot(info, new Dictionary<string, ComponentState>
        {
            ["model"] = model,
            ["optimizer"] = optimizer,
            ["counters"] = counters,
        }).WithWeightsDigest();
    }
}
