using Orchestrator.Trainer.Checkpointing;
using Orchestrator.Trainer.Tensors;
using Orchestrator.Trainer.Tests.Support;

namespace Orchestrator.Trainer.Tests.Checkpointing;

public sealed class CheckpointStoreTests : IDisposable
{
    private readonly TempDirectory _temp = new();
    private readonly CheckpointStore _store;

    public CheckpointStoreTests() => _store = new CheckpointStore(_temp.Sub("ckpt"), new CheckpointNaming());

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Commit_writes_all_files_then_the_manifest_and_moves_the_latest_pointer()
    {
        var result = _store.Commit(Snapshots.At(10));

        Assert.Equal("iter_10", result.Name);
        Assert.Equal("iter_10", _store.LatestPointer);
        var files = Directory.GetFiles(result.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(["MANIFEST.json", "model.weights", "optimizer.bin"], files);
        Assert.True(_store.Verify(result.Path).IsValid);
        Assert.Empty(Directory.GetDirectories(_store.Directory, ".*"));
    }

    [Fact]
    public void Loaded_checkpoint_returns_exactly_what_was_saved()
    {
        var snapshot = Snapshots.At(7, fill: 2.5f);
        _store.Commit(snapshot);

        var loaded = _store.Load(_store.List()[0].Path);

        Assert.Equal(snapshot.Info, loaded.Info);
        Assert.Equal(snapshot.Components["optimizer"].Blob, loaded.Components["optimizer"].Blob);
        Assert.Equal(snapshot.Components["model"].Tensors.Select(t => t.Value.Bytes.ToArray()), loaded.Components["model"].Tensors.Select(t => t.Value.Bytes.ToArray()));
        Assert.Equal(7, loaded.Components["counters"].Metadata!["iteration"]!.GetValue<long>());
    }

    [Fact]
    public void A_component_keeps_a_few_tensors_in_the_manifest_and_more_in_a_file_of_its_own()
    {
        var snapshot = Snapshots.At(10);
        var generator = Bytes(CheckpointFormat.InlineTensorBytes, seed: 1);
        var average = Bytes(CheckpointFormat.InlineTensorBytes + 1, seed: 2);
        var components = new Dictionary<string, ComponentState>(snapshot.Components, StringComparer.Ordinal)
        {
            ["rng"] = new([KeyValuePair.Create("state", new HostTensor(TorchSharp.torch.ScalarType.Byte, [generator.Length], generator))], null, null),
            ["ema"] = new([KeyValuePair.Create("fc.weight", new HostTensor(TorchSharp.torch.ScalarType.Byte, [average.Length], average))], null, null),
        };

        var result = _store.Commit(snapshot with { Components = components });
        var loaded = _store.Load(result.Path);

        var files = Directory.GetFiles(result.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(["MANIFEST.json", "ema.tensors", "model.weights", "optimizer.bin"], files);
        Assert.Equal(generator, loaded.Components["rng"].Tensors.Single().Value.Bytes.ToArray());
        Assert.Equal(average, loaded.Components["ema"].Tensors.Single().Value.Bytes.ToArray());
        Assert.Equal(files.Sum(f => new FileInfo(Path.Combine(result.Path, f!)).Length), result.Bytes);
    }

    [Fact]
    public void Latest_is_found_by_its_number_not_by_file_time()
    {
        _store.Commit(Snapshots.At(9));
        _store.Commit(Snapshots.At(100));
        _store.Commit(Snapshots.At(20));
        Directory.SetLastWriteTimeUtc(Path.Combine(_store.Directory, "iter_9"), DateTime.UtcNow.AddHours(1));

        var (latest, skipped) = _store.LoadLatestValid();

        Assert.Equal("iter_100", latest!.Name);
        Assert.Empty(skipped);
        Assert.Equal(["iter_100", "iter_20", "iter_9"], _store.List().Select(e => e.Name));
    }

    [Theory]
    [InlineData("model.weights", "truncated")]
    [InlineData("optimizer.bin", "truncated")]
    public void A_truncated_file_fails_verification_and_the_previous_checkpoint_is_used(string file, string word)
    {
        _store.Commit(Snapshots.At(10));
        _store.Commit(Snapshots.At(20));
        var path = Path.Combine(_store.Directory, "iter_20", file);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);

        var verdict = _store.Verify(Path.Combine(_store.Directory, "iter_20"));
        var (latest, skipped) = _store.LoadLatestValid();

        Assert.Equal($"iter_20: {file} is {word} ({bytes.Length / 2} of {bytes.Length} bytes)", verdict.Problem);
        Assert.Equal("iter_10", latest!.Name);
        Assert.Equal([verdict.Problem!], skipped);
    }

    [Fact]
    public void A_flipped_byte_fails_verification_by_hash()
    {
        _store.Commit(Snapshots.At(10));
        var path = Path.Combine(_store.Directory, "iter_10", "model.weights");
        var bytes = File.ReadAllBytes(path);
        bytes[^3] ^= 0x40;
        File.WriteAllBytes(path, bytes);

        var verdict = _store.Verify(Path.Combine(_store.Directory, "iter_10"));

        Assert.Equal("iter_10: model.weights is corrupt (XXH128 does not match the manifest)", verdict.Problem);
        Assert.Throws<CorruptCheckpointException>(() => _store.Load(verdict.Path));
    }

    [Fact]
    public void A_folder_without_manifest_or_with_a_missing_file_is_not_a_checkpoint()
    {
        _store.Commit(Snapshots.At(10));
        _store.Commit(Snapshots.At(20));
        File.Delete(Path.Combine(_store.Directory, "iter_20", "MANIFEST.json"));
        File.Delete(Path.Combine(_store.Directory, "iter_10", "optimizer.bin"));

        Assert.Equal("iter_20: MANIFEST.json is missing, the save never completed", _store.Verify(Path.Combine(_store.Directory, "iter_20")).Problem);
        Assert.Equal("iter_10: optimizer.bin is missing", _store.Verify(Path.Combine(_store.Directory, "iter_10")).Problem);
        Assert.Null(_store.LoadLatestValid().Checkpoint);
    }

    [Fact]
    public void A_garbled_manifest_is_reported_as_corrupt()
    {
        _store.Commit(Snapshots.At(10));
        File.WriteAllText(Path.Combine(_store.Directory, "iter_10", "MANIFEST.json"), "{ not json");

        Assert.Equal("iter_10: MANIFEST.json is unreadable (corrupt)", _store.Verify(Path.Combine(_store.Directory, "iter_10")).Problem);
    }

    [Fact]
    public void Unfinished_save_folders_are_invisible_and_removed_on_start()
    {
        _store.Commit(Snapshots.At(10));
        var abandoned = Path.Combine(_store.Directory, ".tmp-iter_20-abc");
        Directory.CreateDirectory(abandoned);
        File.WriteAllText(Path.Combine(abandoned, "model.weights"), "partial");
        var pointer = Path.Combine(_store.Directory, ".tmp-latest-abc");
        File.WriteAllText(pointer, "iter_20\n");

        Assert.Equal(["iter_10"], _store.List().Select(e => e.Name));
        Assert.Equal("iter_10", _store.LatestPointer);
        Assert.Equal(1, _store.RemoveAbandonedSaves());
        Assert.False(Directory.Exists(abandoned));
        Assert.False(File.Exists(pointer));
    }

    [Fact]
    public void Committing_over_a_corrupt_checkpoint_of_the_same_step_replaces_it()
    {
        _store.Commit(Snapshots.At(10, fill: 1f));
        File.WriteAllText(Path.Combine(_store.Directory, "iter_10", "model.weights"), "garbage");

        var result = _store.Commit(Snapshots.At(10, fill: 2f));

        Assert.False(result.AlreadyPresent);
        Assert.True(_store.Verify(result.Path).IsValid);
    }

    [Fact]
    public void Committing_a_step_that_is_already_saved_intact_is_a_no_op()
    {
        _store.Commit(Snapshots.At(10));

        Assert.True(_store.Commit(Snapshots.At(10)).AlreadyPresent);
    }

    [Fact]
    public void Retention_keeps_the_newest_K_and_never_a_protected_one()
    {
        foreach (var step in new[] { 10, 20, 30, 40, 50 })
        {
            _store.Commit(Snapshots.At(step));
        }

        var deleted = _store.ApplyRetention(2, new HashSet<string> { "iter_10" });

        Assert.Equal(["iter_30", "iter_20"], deleted);
        Assert.Equal(["iter_50", "iter_40", "iter_10"], _store.List().Select(e => e.Name));
        Assert.Empty(_store.ApplyRetention(0, new HashSet<string>()));
    }

    [Fact]
    public void Delete_all_removes_every_checkpoint_and_the_pointer()
    {
        _store.Commit(Snapshots.At(10));
        _store.Commit(Snapshots.At(20));

        Assert.Equal(2, _store.DeleteAll());
        Assert.Empty(_store.List());
        Assert.Null(_store.LatestPointer);
    }

    [Fact]
    public void Delete_all_of_a_folder_never_created_deletes_nothing()
    {
        Assert.False(Directory.Exists(_store.Directory));

        Assert.Equal(0, _store.DeleteAll());
    }

    [Fact]
    public void Weights_digest_is_recorded_in_the_checkpoint_info()
    {
        var snapshot = Snapshots.At(5);
        _store.Commit(snapshot);

        var loaded = _store.Load(_store.List()[0].Path);

        Assert.Equal(Orchestrator.Trainer.Tensors.WeightsDigest.Of(snapshot.Components["model"].Tensors), loaded.Info.WeightsSha256);
        Assert.Equal(64, loaded.Info.WeightsSha256.Length);
    }

    private static byte[] Bytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
