using System.Text.Json;
using System.Text.Json.Nodes;

namespace Orchestrator.Trainer.Checkpointing;

/// <summary>
/// The on-disk layout of one checkpoint folder. <c>model.weights</c> is TorchSharp's own format (so
/// <c>Module.load</c> reads it anywhere); other tensors go to <c>NAME.tensors</c> in the same format, opaque
/// states to <c>NAME.bin</c>, and everything readable to <c>checkpoint.json</c>. <c>MANIFEST.json</c>, written
/// last, lists every file with its size and SHA-256: a folder without a valid manifest is not a checkpoint.
/// </summary>
public static class CheckpointFormat
{
    public const string FormatName = "orchestrator-checkpoint/1";
    public const string ManifestFile = "MANIFEST.json";
    public const string MetadataFile = "checkpoint.json";
    public const string ModelWeightsFile = "model.weights";

    public static string TensorFileFor(string component) =>
        component == ModelCheckpointable.ComponentName ? ModelWeightsFile : component + ".tensors";

    public static string BlobFileFor(string component) => component + ".bin";
}

/// <summary>The manifest: every file of the checkpoint with its length and hash.</summary>
public sealed record CheckpointManifest(string Format, string Name, long Iteration, IReadOnlyDictionary<string, ManifestEntry> Files)
{
    public byte[] ToBytes() => JsonSerializer.SerializeToUtf8Bytes(this, CheckpointJson.Options);

    public static CheckpointManifest Parse(byte[] bytes) =>
        JsonSerializer.Deserialize<CheckpointManifest>(bytes, CheckpointJson.Options)
        ?? throw new InvalidDataException("empty manifest");
}

public sealed record ManifestEntry(long Bytes, string Sha256);

/// <summary>What <c>checkpoint.json</c> holds: the info, and per component which files and what metadata.</summary>
public sealed record CheckpointMetadata(string Format, CheckpointInfo Info, IReadOnlyDictionary<string, ComponentEntry> Components);

public sealed record ComponentEntry(string? TensorFile, string? BlobFile, JsonNode? Metadata);
