using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Orchestrator.Trainer.Checkpointing;
using Orchestrator.Trainer.Tensors;
using Orchestrator.Trainer.Tests.Support;

namespace Orchestrator.Trainer.Tests.Checkpointing;

/// <summary>
/// The manifest's hashes: XXH128 per file and a seal over the manifest itself in format 3; checkpoints of
/// format 2 (XXH128, metadata in checkpoint.json) and format 1 (SHA-256) still read.
/// </summary>
public sealed class CheckpointIntegrityTests : IDisposable
{
    private readonly TempDirectory _temp = new();
    private readonly CheckpointStore _store;

    public CheckpointIntegrityTests() => _store = new CheckpointStore(_temp.Sub("ckpt"), new CheckpointNaming());

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void A_new_manifest_is_format_3_sealed_by_its_own_hash_with_an_xxh128_per_file()
    {
        var result = _store.Commit(Snapshots.At(10));

        var text = File.ReadAllText(Path.Combine(result.Path, "MANIFEST.json"));
        var manifest = JsonNode.Parse(text)!;
        Assert.Equal("orchestrator-checkpoint/3", manifest["format"]!.GetValue<string>());
        Assert.StartsWith("{\n  \"manifestXxh128\": \"", text, StringComparison.Ordinal);
        Assert.Matches("^[0-9a-f]{32}$", manifest["manifestXxh128"]!.GetValue<string>());
        Assert.Equal(10, manifest["info"]!["iteration"]!.GetValue<long>());
        Assert.Equal(["model.weights", "optimizer.bin"], manifest["files"]!.AsObject().Select(f => f.Key).Order(StringComparer.Ordinal));
        foreach (var (_, entry) in manifest["files"]!.AsObject())
        {
            Assert.Equal(32, entry!["xxh128"]!.GetValue<string>().Length);
            Assert.Null(entry["sha256"]);
        }
        Assert.False(File.Exists(Path.Combine(result.Path, "checkpoint.json")));
        Assert.Equal("XXH128", _store.Verify(result.Path).Checksum);
    }

    [Theory]
    [InlineData("\"iteration\": 10", "\"iteration\": 11")] // every one of them: still valid JSON, and consistent
    [InlineData("\"job\": \"test\"", "\"job\": \"tesu\"")]
    [InlineData("\"type\": \"Adam\"", "\"type\": \"Adan\"")] // a component's metadata
    public void A_changed_manifest_breaks_its_seal_and_is_named_as_corrupt(string from, string to)
    {
        var result = _store.Commit(Snapshots.At(10));
        var path = Path.Combine(result.Path, "MANIFEST.json");
        var text = File.ReadAllText(path);
        Assert.Contains(from, text, StringComparison.Ordinal);
        File.WriteAllText(path, text.Replace(from, to, StringComparison.Ordinal));

        var expected = "iter_10: MANIFEST.json is corrupt (XXH128 does not match the hash it records)";
        Assert.Equal(expected, _store.Verify(result.Path).Problem);
        Assert.Equal(expected, Assert.Throws<CorruptCheckpointException>(() => _store.Load(result.Path)).Message);
    }

    [Theory]
    [InlineData("model.weights", 0)] // the tensor count: the parser reads nonsense before the hash is checked
    [InlineData("model.weights", 3)] // inside the first tensor's name
    [InlineData("model.weights", -1)] // the last byte of the last tensor
    [InlineData("optimizer.bin", 1)]
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

    // Optimizer state several times the weights' size: on two or more cores a load reads it in two parts.
    [Theory]
    [InlineData(-1, null)]
    [InlineData(100, "optimizer.bin")] // in the head
    [InlineData(3_000_000, "optimizer.bin")] // in the tail
    public void A_large_blob_read_in_two_parts_loads_exactly_or_is_named_as_corrupt(int flipped, string? corrupt)
    {
        var snapshot = WithLargeOptimizerState(Snapshots.At(10));
        var path = _store.Commit(snapshot).Path;
        var blobPath = Path.Combine(path, "optimizer.bin");
        if (flipped >= 0)
        {
            var bytes = File.ReadAllBytes(blobPath);
            bytes[flipped] ^= 0x01;
            File.WriteAllBytes(blobPath, bytes);
        }

        if (corrupt is null)
        {
            Assert.Equal(snapshot.Components["optimizer"].Blob, _store.Load(path).Components["optimizer"].Blob);
        }
        else
        {
            Assert.Equal($"iter_10: {corrupt} is corrupt (XXH128 does not match the manifest)", Assert.Throws<CorruptCheckpointException>(() => _store.Load(path)).Message);
        }
    }

    [Fact]
    public void With_a_large_blob_split_the_first_corrupt_file_in_name_order_is_still_the_one_named()
    {
        var path = _store.Commit(WithLargeOptimizerState(Snapshots.At(10))).Path;
        foreach (var (file, position) in new[] { ("model.weights", -1), ("optimizer.bin", 3_000_000) })
        {
            var filePath = Path.Combine(path, file);
            var bytes = File.ReadAllBytes(filePath);
            bytes[position >= 0 ? position : bytes.Length + position] ^= 0x01;
            File.WriteAllBytes(filePath, bytes);
        }

        Assert.Equal("iter_10: model.weights is corrupt (XXH128 does not match the manifest)", Assert.Throws<CorruptCheckpointException>(() => _store.Load(path)).Message);
    }

    [Fact]
    public void A_truncation_is_caught_by_the_hash_even_when_the_manifest_size_was_made_to_match()
    {
        var result = _store.Commit(Snapshots.At(10));
        var path = Path.Combine(result.Path, "model.weights");
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^8]);
        // A manifest made to match in every other way, sealed anew.
        var manifestPath = Path.Combine(result.Path, "MANIFEST.json");
        var manifest = CheckpointManifest.Parse(File.ReadAllBytes(manifestPath));
        var files = new Dictionary<string, ManifestEntry>(manifest.Files) { ["model.weights"] = manifest.Files["model.weights"] with { Bytes = bytes.Length - 8 } };
        File.WriteAllBytes(manifestPath, ManifestSeal.Sealed(manifest with { Files = files }));

        Assert.Equal("iter_10: model.weights is corrupt (XXH128 does not match the manifest)", _store.Verify(result.Path).Problem);
        Assert.Throws<CorruptCheckpointException>(() => _store.Load(result.Path));
    }

    [Theory]
    [InlineData(2, "XXH128")]
    [InlineData(1, "SHA-256")]
    public void A_checkpoint_of_an_earlier_format_still_loads_and_verifies(int version, string checksum)
    {
        var snapshot = WithGeneratorState(Snapshots.At(10, fill: 3f));
        var path = _store.Commit(snapshot).Path;
        OlderFormats.Rewrite(path, version);

        var verdict = _store.Verify(path);
        var loaded = _store.Load(path);

        Assert.True(verdict.IsValid, verdict.Problem);
        Assert.Equal(checksum, verdict.Checksum);
        Assert.True(File.Exists(Path.Combine(path, "rng.tensors")));
        Assert.Equal(snapshot.Info, loaded.Info);
        Assert.Equal(snapshot.Components["model"].Tensors.Select(t => t.Value.Bytes.ToArray()), loaded.Components["model"].Tensors.Select(t => t.Value.Bytes.ToArray()));
        Assert.Equal(snapshot.Components["optimizer"].Blob, loaded.Components["optimizer"].Blob);
        Assert.Equal(snapshot.Components["rng"].Tensors.Single().Value.Bytes.ToArray(), loaded.Components["rng"].Tensors.Single().Value.Bytes.ToArray());
        Assert.Equal(10, loaded.Components["counters"].Metadata!["iteration"]!.GetValue<long>());
        Assert.Equal("iter_10", _store.LoadLatestValid().Checkpoint!.Name);
    }

    [Fact]
    public void A_flipped_byte_in_a_format_1_checkpoint_is_named_with_sha256()
    {
        var path = _store.Commit(Snapshots.At(10)).Path;
        OlderFormats.Rewrite(path, 1);
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
            "iter_10: MANIFEST.json is not an orchestrator-checkpoint/3, orchestrator-checkpoint/2 or orchestrator-checkpoint/1 manifest",
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

    // The model gets a parameter of 400 KB, so that 3.5 MB of optimizer state is within what it could have
    // (OptimizerBlobBound: 8 x the model's bytes + 1 MiB); more would be refused before it is read.
    private static CheckpointSnapshot WithLargeOptimizerState(CheckpointSnapshot snapshot)
    {
        var blob = new byte[3_500_000];
        new Random(3).NextBytes(blob);
        var model = snapshot.Components["model"];
        var large = new HostTensor(TorchSharp.torch.ScalarType.Float32, [100_000], new byte[400_000]);
        var components = new Dictionary<string, ComponentState>(snapshot.Components, StringComparer.Ordinal)
        {
            ["model"] = model with { Tensors = [.. model.Tensors, KeyValuePair.Create("fc.large", large)] },
            ["optimizer"] = snapshot.Components["optimizer"] with { Blob = blob },
        };
        return (snapshot with { Components = components, Info = snapshot.Info with { WeightsSha256 = "" } }).WithWeightsDigest();
    }

    // A generator's state: a component's few tensors, which a format 3 manifest holds itself.
    private static CheckpointSnapshot WithGeneratorState(CheckpointSnapshot snapshot)
    {
        var state = new HostTensor(TorchSharp.torch.ScalarType.Byte, [5056], Enumerable.Range(0, 5056).Select(i => (byte)(i * 7)).ToArray());
        var components = new Dictionary<string, ComponentState>(snapshot.Components, StringComparer.Ordinal)
        {
            ["rng"] = new([KeyValuePair.Create("torch_cpu_generator", state)], null, null),
        };
        return snapshot with { Components = components };
    }
}
