using Orchestrator.Trainer.Checkpointing;
using Orchestrator.Trainer.Jobs;
using Orchestrator.Trainer.Tests.Support;
using Orchestrator.Trainer.Training;

namespace Orchestrator.Trainer.Tests.Checkpointing;

/// <summary>
/// A checkpoint that verifies (every file matches its sealed hash) but is refused when restored, because its
/// optimizer.bin was padded past the optimizer's state and the manifest sealed again, is skipped by auto-resume
/// like a corrupt one: one line naming it, and the run goes on from the checkpoint before it (or fresh), ending
/// exactly as a run never interrupted. A blob larger than the model makes possible is refused before it is read.
/// </summary>
public sealed class RefusedOnRestoreTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Auto_resume_falls_back_from_a_padded_optimizer_state_to_the_checkpoint_before()
    {
        var dir = _temp.Sub("run");
        Runs.Execute(Runs.Options(dir, steps: 20));
        PadOptimizerState(Path.Combine(dir, "checkpoints", "iter_20"), 1000);
        var observer = new RecordingObserver();

        var result = TrainingRun.Execute(Runs.Job(), Runs.Options(dir, steps: 30), observer);

        Assert.EndsWith("iter_10", result.ResumedFrom);
        Assert.Equal(
            ["iter_20: optimizer.bin holds 1000 bytes past the end of the optimizer's state (crafted or corrupt, refused); resuming from iter_10 instead"],
            observer.Notes.Where(n => n.Contains("iter_20", StringComparison.Ordinal)));
        Assert.Equal(Runs.Execute(Runs.Options(_temp.Sub("straight"), steps: 30)).WeightsSha256, result.WeightsSha256);
    }

    [Fact]
    public void Auto_resume_starts_fresh_when_the_only_checkpoint_is_refused_and_the_refusal_changed_nothing()
    {
        var dir = _temp.Sub("run");
        Runs.Execute(Runs.Options(dir, steps: 10));
        PadOptimizerState(Path.Combine(dir, "checkpoints", "iter_10"), 16);
        var observer = new RecordingObserver();

        var result = TrainingRun.Execute(Runs.Job(), Runs.Options(dir, steps: 30), observer);

        Assert.Null(result.ResumedFrom);
        Assert.Contains("iter_10: optimizer.bin holds 16 bytes past the end of the optimizer's state (crafted or corrupt, refused); no older valid checkpoint, starting fresh", observer.Notes);
        // The model and optimizer were left as built: a restore that wrote either first would end elsewhere.
        Assert.Equal(Runs.Execute(Runs.Options(_temp.Sub("straight"), steps: 30)).WeightsSha256, result.WeightsSha256);
    }

    [Fact]
    public void Resume_from_a_named_padded_checkpoint_is_refused_not_replaced()
    {
        var dir = _temp.Sub("run");
        Runs.Execute(Runs.Options(dir, steps: 20));
        var padded = Path.Combine(dir, "checkpoints", "iter_20");
        PadOptimizerState(padded, 8);

        var refused = Assert.Throws<CorruptCheckpointException>(() =>
            Runs.Execute(Runs.Options(_temp.Sub("other"), steps: 30) with { Resume = ResumeMode.Path, ResumePath = padded }));

        Assert.Equal("iter_20: optimizer.bin holds 8 bytes past the end of the optimizer's state (crafted or corrupt, refused)", refused.Message);
    }

    [Fact]
    public void A_sealed_optimizer_state_cut_short_is_refused_as_corrupt_and_skipped()
    {
        var dir = _temp.Sub("run");
        Runs.Execute(Runs.Options(dir, steps: 20));
        var cut = Path.Combine(dir, "checkpoints", "iter_20");
        var blob = Path.Combine(cut, "optimizer.bin");
        var shorter = File.ReadAllBytes(blob)[..^3];
        File.WriteAllBytes(blob, shorter);
        using (var checksum = FileChecksum.Xxh128())
        {
            checksum.Append(shorter);
            Reseal(cut, "optimizer.bin", shorter.Length, checksum.Finish());
        }
        var observer = new RecordingObserver();

        var result = TrainingRun.Execute(Runs.Job(), Runs.Options(dir, steps: 30), observer);

        Assert.EndsWith("iter_10", result.ResumedFrom);
        Assert.Matches(@"^iter_20: optimizer\.bin does not hold a whole optimizer state \(.+; crafted or corrupt, refused\); resuming from iter_10 instead$",
            Assert.Single(observer.Notes, n => n.Contains("iter_20", StringComparison.Ordinal)));
        Assert.Equal(Runs.Execute(Runs.Options(_temp.Sub("straight"), steps: 30)).WeightsSha256, result.WeightsSha256);
    }

    [Fact]
    public void A_sparse_optimizer_blob_beyond_what_the_model_allows_is_refused_before_it_is_read()
    {
        var dir = _temp.Sub("run");
        Runs.Execute(Runs.Options(dir, steps: 10));
        var checkpoint = Path.Combine(dir, "checkpoints", "iter_10");
        var blob = Path.Combine(checkpoint, "optimizer.bin");
        const long Padded = 3L << 29; // 1.5 GiB, as found: a sparse file, so the disk holds almost none of it
        using (var file = new FileStream(blob, FileMode.Open, FileAccess.Write))
        {
            file.SetLength(Padded);
        }
        // The size is sealed as it is; the hash is left as it was, since nothing is hashed before the bound
        // refuses (without the bound, the 1.5 GiB would be read, then refused for its hash).
        Reseal(checkpoint, "optimizer.bin", Padded, ReadManifest(checkpoint).Files["optimizer.bin"].Xxh128!);
        var store = new CheckpointStore(Path.Combine(dir, "checkpoints"), new CheckpointNaming());
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);

        var refused = Assert.Throws<CorruptCheckpointException>(() => store.Load(checkpoint));
        var verified = store.Verify(checkpoint);

        Assert.Matches(@"^iter_10: optimizer\.bin declares 1610612736 bytes, more than an optimizer's state for this model can take \(at most \d+: 8 x the model's \d+ bytes \+ 1048576\); crafted or corrupt, refused$", refused.Message);
        Assert.Equal(refused.Message, verified.Problem);
        Assert.True(GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore < 256L << 20, "the padded blob was read into memory");
    }

    [Fact]
    public void The_bound_leaves_room_for_every_built_in_optimizer_state()
    {
        foreach (var job in new[] { MlpJob.Name, CnnJob.Name, CharLmJob.Name })
        {
            var dir = _temp.Sub(job);
            Runs.Execute(Runs.Options(dir, steps: 2, every: 1), job);
            var manifest = ReadManifest(Path.Combine(dir, "checkpoints", "iter_2"));
            var model = manifest.Components!["model"];
            var modelBytes = model.InlineTensors?.LongLength ?? manifest.Files[model.TensorFile!].Bytes;

            Assert.InRange(manifest.Files["optimizer.bin"].Bytes, modelBytes, OptimizerBlobBound.Of(modelBytes));
        }
    }

    // What an attacker can do without the program's help: pad the file and seal the manifest again.
    private static void PadOptimizerState(string checkpoint, int extraBytes)
    {
        var blob = Path.Combine(checkpoint, "optimizer.bin");
        byte[] padded = [.. File.ReadAllBytes(blob), .. new byte[extraBytes]];
        File.WriteAllBytes(blob, padded);
        using var checksum = FileChecksum.Xxh128();
        checksum.Append(padded);
        Reseal(checkpoint, "optimizer.bin", padded.Length, checksum.Finish());
    }

    private static CheckpointManifest ReadManifest(string checkpoint) =>
        CheckpointManifest.Parse(File.ReadAllBytes(Path.Combine(checkpoint, "MANIFEST.json")));

    private static void Reseal(string checkpoint, string file, long bytes, string xxh128)
    {
        var manifest = ReadManifest(checkpoint);
        var files = manifest.Files.ToDictionary(f => f.Key, f => f.Value);
        files[file] = new ManifestEntry(bytes, xxh128);
        var manifestPath = Path.Combine(checkpoint, "MANIFEST.json");
        File.Delete(manifestPath);
        File.WriteAllBytes(manifestPath, ManifestSeal.Sealed(manifest with { Files = files }));
    }
}
