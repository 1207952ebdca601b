using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Orchestrator.Trainer.Checkpointing;

/// <summary>
/// The on-disk layout of one checkpoint folder. <c>model.weights</c> is TorchSharp's own format (so
/// <c>Module.load</c> reads it anywhere); other tensors go to <c>NAME.tensors</c> in the same format, opaque
/// states to <c>NAME.bin</c>. <c>MANIFEST.json</c>, written last, lists every file with its size and hash and
/// holds everything readable (the info and each component's metadata), sealed by a hash of its own: a folder
/// without a valid manifest is not a checkpoint. A component's tensors of at most
/// <see cref="InlineTensorBytes"/> (the generator's state) are kept in the manifest too, in the same tensor
/// format: a file of its own, created, written and fsynced, cost a 1 MB save about 0.25 ms of its 4.
/// Format 3 is what a save writes. Formats 2 (XXH128) and 1 (SHA-256), whose readable part is a separate
/// <c>checkpoint.json</c>, are still read and verified.
/// </summary>
public static class CheckpointFormat
{
    /// <summary>What a save writes: files hashed with XXH128, the metadata in the sealed manifest.</summary>
    public const string FormatName = "orchestrator-checkpoint/3";

    /// <summary>Files hashed with XXH128 and the metadata in <c>checkpoint.json</c>: still read, never written.</summary>
    public const string FormatVersion2 = "orchestrator-checkpoint/2";

    /// <summary>The first format, files hashed with SHA-256: still read, never written.</summary>
    public const string FormatVersion1 = "orchestrator-checkpoint/1";
    public const string ManifestFile = "MANIFEST.json";

    /// <summary>The readable part of formats 1 and 2.</summary>
    public const string MetadataFile = "checkpoint.json";
    public const string ModelWeightsFile = "model.weights";

    /// <summary>Up to this many bytes of tensor data, a component other than the model keeps its tensors in the manifest.</summary>
    public const int InlineTensorBytes = 64 << 10;

    public static string TensorFileFor(string component) =>
        component == ModelCheckpointable.ComponentName ? ModelWeightsFile : component + ".tensors";

    public static string BlobFileFor(string component) => component + ".bin";

    /// <summary>Whether a component's tensors go into the manifest rather than a file of their own.</summary>
    public static bool KeepsInline(string component, IReadOnlyList<KeyValuePair<string, Tensors.HostTensor>> tensors) =>
        component != ModelCheckpointable.ComponentName && tensors.Sum(t => (long)t.Value.Bytes.Length) <= InlineTensorBytes;
}

/// <summary>
/// The manifest: every file of the checkpoint with its length and hash. In format 3 it also holds the info
/// and the components, and <paramref name="ManifestXxh128"/>, written first, is the XXH128 of the file's own
/// bytes with that hash's 32 characters as zeros (see <see cref="ManifestSeal"/>).
/// </summary>
public sealed record CheckpointManifest(
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? ManifestXxh128,
    string Format,
    string Name,
    long Iteration,
    IReadOnlyDictionary<string, ManifestEntry> Files,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] CheckpointInfo? Info = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyDictionary<string, ComponentEntry>? Components = null)
{
    public static CheckpointManifest Parse(byte[] bytes) =>
        JsonSerializer.Deserialize<CheckpointManifest>(bytes, CheckpointJson.Options)
        ?? throw new InvalidDataException("empty manifest");

    /// <summary>Whether the info and components are here (format 3) rather than in <c>checkpoint.json</c>.</summary>
    internal bool HoldsMetadata => Format == CheckpointFormat.FormatName;

    /// <summary>A fresh checksum of the kind this manifest's entries carry.</summary>
    internal FileChecksum NewChecksum() => Format == CheckpointFormat.FormatVersion1 ? FileChecksum.Sha256() : FileChecksum.Xxh128();

    /// <summary>Whether the format is one this program reads and every part that format needs is present.</summary>
    internal bool IsComplete =>
        Files is not null
        && Format switch
        {
            CheckpointFormat.FormatName => ManifestXxh128 is not null && Info is not null && Components is not null && Files.Values.All(f => f?.Xxh128 is not null),
            CheckpointFormat.FormatVersion2 => Files.ContainsKey(CheckpointFormat.MetadataFile) && Files.Values.All(f => f?.Xxh128 is not null),
            CheckpointFormat.FormatVersion1 => Files.ContainsKey(CheckpointFormat.MetadataFile) && Files.Values.All(f => f?.Sha256 is not null),
            _ => false,
        };

    internal string ExpectedHash(string file) => (Format == CheckpointFormat.FormatVersion1 ? Files[file].Sha256 : Files[file].Xxh128)!;
}

/// <summary>One file of a manifest: its length and its hash, XXH128 (formats 3 and 2) or SHA-256 (format 1).</summary>
public sealed record ManifestEntry(
    long Bytes,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Xxh128 = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Sha256 = null);

/// <summary>What <c>checkpoint.json</c> of formats 1 and 2 holds: the info, and per component which files and what metadata.</summary>
public sealed record CheckpointMetadata(string Format, CheckpointInfo Info, IReadOnlyDictionary<string, ComponentEntry> Components);

/// <summary>
/// One component: its tensor file or, in format 3, its few tensors in the tensor format (base64 in JSON),
/// its blob file, and its metadata.
/// </summary>
public sealed record ComponentEntry(
    string? TensorFile,
    string? BlobFile,
    JsonNode? Metadata,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] byte[]? InlineTensors = null);
