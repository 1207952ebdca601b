using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Orchestrator.Trainer.Checkpointing;
using Orchestrator.Trainer.Tensors;
using Orchestrator.Trainer.Tests.Support;

namespace Orchestrator.Trainer.Tests.Checkpointing;

/// <summary>The per-file hash of the manifest: XXH128 in format 2, and format 1 (SHA-256) checkpoints still read.</summary>
public sealed class CheckpointIntegrityTests : IDisposable
{
    private readonly TempDirectory _temp = new();
    private readonly CheckpointStore _store;

    public CheckpointIntegrityTests() => _store = new CheckpointStore(_temp.Sub("ckpt"), new CheckpointNaming());

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void A_new_manifest_is_format_2_with_an_xxh128_per_file()
    {
        var result = _store.Commit(Snapshots.At(10));

        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(result.Path, "MANIFEST.json")))!;
        Assert.Equal("orchestrator-checkpoint/2", manifest["format"]!.GetValue<string>());
        foreach (var (_, entry) in manifest["files"]!.AsObject())
        {
            Assert.Equal(32, entry!["xxh128"]!.GetValue<string>().Length);
            Assert.Null(entry["sha256"]);
        }
        Assert.Equal("XXH128", _store.Verify(result.Path).Checksum);
    }

    [Theory]
    [InlineData("model.weights", 0)] // the tensor count: the parser reads nonsense before the hash is checked
    [InlineData("model.weights", 3)] // inside the first tensor's name
    [InlineData("model.weights", -1)] // the last byte of the last tensor
    [InlineData("optimizer.bin", 1)]
    [InlineData("checkpoint.json", 10)]
    public void A_flipped_byte_anywhere_is_named_as_corrupt_by_verify_and_load(string file, int position)
    {
        var result = _store.Commit(Snapshots.At(10));
        var path = Path.Combine(result.Path, file);
        var bytes = File.ReadAllBytes(path);
        bytes[position >= 0 ? position : bytes.Length + position] ^= 0x01;
        File.WriteAllBytes(path, bytes);

        var expected = $"iter_10: {file} is corrupt (XXH128 does not match the manifest)";
        Assert.Equal(expected, _store.Verify(result.Path).Problem);
        Assert.Equal(expected, Assert.Throws<CorruptCheckpointException>(() => _store.Load(result.Path)).Message);
    }

    [Fact]
    public void A_truncation_is_caught_by_the_hash_even_when_the_manifest_size_was_made_to_match()
    {
        var result = _store.Commit(Snapshots.At(10));
        var path = Path.Combine(result.Path, "model.weights");
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^8]);
        var manifestPath = Path.Combine(result.Path, "MANIFEST.json");
        var manifest = JsonNode.Parse(File.ReadAllText(manifestPath))!;
        manifest["files"]!["model.weights"]!["bytes"] = bytes.Length - 8;
        File.WriteAllText(manifestPath, manifest.ToJsonString());

        Assert.Equal("iter_10: model.weights is corrupt (XXH128 does not match the manifest)", _store.Verify(result.Path).Problem);
        Assert.Throws<CorruptCheckpointException>(() => _store.Load(result.Path));
    }

    [Fact]
    public void A_format_1_checkpoint_with_sha256_manifest_still_loads_and_verifies()
    {
        var snapshot = Snapshots.At(10, fill: 3f);
        var path = WriteFormat1(snapshot);

        var verdict = _store.Verify(path);
        var loaded = _store.Load(path);

        Assert.True(verdict.IsValid, verdict.Problem);
        Assert.Equal("SHA-256", verdict.Checksum);
        Assert.Equal(snapshot.Info, loaded.Info);
        Assert.Equal(snapshot.Components["model"].Tensors.Select(t => t.Value.Bytes.ToArray()), loaded.Components["model"].Tensors.Select(t => t.Value.Bytes.ToArray()));
        Assert.Equal(snapshot.Components["optimizer"].Blob, loaded.Components["optimizer"].Blob);
        Assert.Equal("iter_10", _store.LoadLatestValid().Checkpoint!.Name);
    }

    [Fact]
    public void A_flipped_byte_in_a_format_1_checkpoint_is_named_with_sha256()
    {
        var path = WriteFormat1(Snapshots.At(10));
        var weights = Path.Combine(path, "model.weights");
        var bytes = File.ReadAllBytes(weights);
        bytes[bytes.Length / 2] ^= 0x10;
        File.WriteAllBytes(weights, bytes);

        Assert.Equal("iter_10: model.weights is corrupt (SHA-256 does not match the manifest)", _store.Verify(path).Problem);
    }

    [Fact]
    public void A_manifest_of_an_unknown_format_or_without_its_hash_is_refused()
    {
        var result = _store.Commit(Snapshots.At(10));
        var manifestPath = Path.Combine(result.Path, "MANIFEST.json");
        var manifest = JsonNode.Parse(File.ReadAllText(manifestPath))!;
        manifest["format"] = "orchestrator-checkpoint/1"; // format 1 needs sha256 entries, these carry xxh128
        File.WriteAllText(manifestPath, manifest.ToJsonString());

        Assert.Equal(
            "iter_10: MANIFEST.json is not an orchestrator-checkpoint/2 or orchestrator-checkpoint/1 manifest",
            _store.Verify(result.Path).Problem);
    }

    [Fact]
    public void Commit_computes_weights_sha256_when_the_snapshot_has_none()
    {
        var digested = Snapshots.At(10, fill: 4f);
        var undigested = digested with { Info = digested.Info with { WeightsSha256 = "" } };

        var result = _store.Commit(undigested);

        Assert.Equal(WeightsDigest.Of(digested.Components["model"].Tensors), result.WeightsSha256);
        Assert.Equal(result.WeightsSha256, _store.Load(result.Path).Info.WeightsSha256);
        Assert.Equal(result.WeightsSha256, _store.Commit(undigested).WeightsSha256); // already present
    }

    // What the previous version of this program wrote: the same files, with a SHA-256 manifest of format 1.
    private string WriteFormat1(CheckpointSnapshot snapshot)
    {
        var path = _store.Commit(snapshot).Path;
        var metadataPath = Path.Combine(path, "checkpoint.json");
        File.WriteAllText(metadataPath, File.ReadAllText(metadataPath).Replace("orchestrator-checkpoint/2", "orchestrator-checkpoint/1", StringComparison.Ordinal));
        var files = new JsonObject();
        foreach (var file in Directory.GetFiles(path).Where(f => Path.GetFileName(f) != "MANIFEST.json").Order(StringComparer.Ordinal))
        {
            var bytes = File.ReadAllBytes(file);
            files[Path.GetFileName(file)] = new JsonObject { ["bytes"] = bytes.Length, ["sha256"] = Convert.ToHexStringLower(SHA256.HashData(bytes)) };
        }
        var manifest = new JsonObject { ["format"] = "orchestrator-checkpoint/1", ["name"] = "iter_10", ["iteration"] = 10, ["files"] = files };
        File.WriteAllText(Path.Combine(path, "MANIFEST.json"), manifest.ToJsonString());
        return path;
    }
}
