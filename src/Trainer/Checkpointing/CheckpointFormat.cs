using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Orchestrator.Trainer.Checkpointing;

/// <summary>
/// The on-disk layout of one checkpoint folder. <c>model.weights</c> is TorchSharp's own format (so
/// <c>Module.load</c> reads it anywhere); other tensors go to <c>NAME.tensors</c> in the same format, opaque
/// states to <c>NAME.bin</c>, and everything readable to <c>checkpoint.json</c>. <c>MANIFEST.json</c>, written
/// last, lists every file with its size and hash: a folder without a valid manifest is not a checkpoint.
/// Format 2 hashes files with XXH128; format 1 (SHA-256) is still read and verified.
/// </summary>
public static class CheckpointFormat
{
    /// <summary>What a save writes: files hashed with XXH128.</summary>
    public const string FormatName = "orchestrator-checkpoint/2";

    /// <summary>The first format, files hashed with SHA-256: still read, never written.</summary>
    public const string FormatVersion1 = "orchestrator-checkpoint/1";
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

    /// <summary>A fresh checksum of the kind this manifest's entries carry.</summary>
    internal FileChecksum NewChecksum() => Format == CheckpointFormat.FormatVersion1 ? FileChecksum.Sha256() : FileChecksum.Xxh128();

    /// <summary>Whether the format is one this program reads and every entry carries that format's hash.</summary>
    internal bool IsComplete =>
        Files is not null
        && Files.ContainsKey(CheckpointFormat.MetadataFile)
        && Format switch
        {
            CheckpointFormat.FormatName => Files.Values.All(f => f?.Xxh128 is not null),
            CheckpointFormat.FormatVersion1 => Files.Values.All(f => f?.Sha256 is not null),
            _ => false,
        };

    internal string ExpectedHash(string file) => (Format == CheckpointFormat.FormatVersion1 ? Files[file].Sha256 : Files[file].Xxh128)!;
}

/// <summary>One file of a manifest: its length and its hash, XXH128 (format 2) or SHA-256 (format 1).</summary>
public sealed record ManifestEntry(
    long Bytes,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Xxh128 = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Sha256 = null);

/// <summary>What <c>checkpoint.json</c> holds: the info, and per component which files and what metadata.</summary>
public sealed record CheckpointMetadata(string Format, CheckpointInfo Info, IReadOnlyDictionary<string, ComponentEntry> Components);

public sealed record ComponentEntry(string? TensorFile, string? BlobFile, JsonNode? Metadata);
