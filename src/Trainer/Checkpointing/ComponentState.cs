using System.Text.Json.Nodes;
using Orchestrator.Trainer.Tensors;

namespace Orchestrator.Trainer.Checkpointing;

/// <summary>
/// What one checkpointable component saved: named tensors (written in TorchSharp's tensor format), an
/// opaque blob (such as a TorchSharp optimizer state), and readable JSON metadata. Any part may be empty.
/// </summary>
public sealed record ComponentState(
    IReadOnlyList<KeyValuePair<string, HostTensor>> Tensors,
    byte[]? Blob,
    JsonNode? Metadata)
{
    public static ComponentState FromJson(JsonNode? metadata) => new([], null, metadata);

    public long ByteCount => Tensors.Sum(t => (long)t.Value.Bytes.Length) + (Blob?.Length ?? 0);
}
