using System.Diagnostics;
using Orchestrator.Trainer.Checkpointing;
using Orchestrator.Trainer.Tensors;
using Orchestrator.Trainer.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Tests.Checkpointing;

/// <summary>
/// A checkpoint is data, never a path into the machine: manifests re-sealed by an attacker (right size, right
/// hash, valid seal) that name files outside the folder, links, FIFOs and devices, pad files past their
/// contents or claim absurd counters are refused in one line naming the checkpoint and the entry, skipped like
/// a corrupt checkpoint, and never reveal anything about a file outside (here a secret of 631 bytes).
/// </summary>
public sealed class HostileCheckpointTests : IDisposable
{
    private const int SecretBytes = 631;
    private readonly TempDirectory _temp = new();
    private readonly CheckpointStore _store;
    private readonly string _secret;

    public HostileCheckpointTests()
    {
        _store = new CheckpointStore(_temp.Sub("ckpt"), new CheckpointNaming());
        _secret = _temp.Sub("secret.txt");
        File.WriteAllBytes(_secret, Enumerable.Range(0, SecretBytes).Select(i => (byte)('a' + (i % 26))).ToArray());
    }

    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData("../../secret.txt", "is a path, not a file name")]
    [InlineData("SECRET", "is a path, not a file name")] // the secret's absolute path
    [InlineData("sub/optimizer.bin", "is a path, not a file name")]
    [InlineData("..", "names a folder")]
    [InlineData("", "is empty")]
    [InlineData("optimizer\n.bin", "holds control characters")]
    public void A_manifest_entry_that_is_not_a_plain_name_is_refused_without_touching_the_file(string entry, string problem)
    {
        var older = _store.Commit(Snapshots.At(5)).Path;
        var path = _store.Commit(Snapshots.At(10)).Path;
        entry = entry == "SECRET" ? _secret : entry;
        Directory.CreateDirectory(Path.Combine(path, "sub"));
        File.Copy(Path.Combine(path, "optimizer.bin"), Path.Combine(path, "sub", "optimizer.bin"));
        // The attacker's manifest: the secret's real size and hash, sealed anew.
        Reseal(path, "optimizer.bin", entry, SecretBytes, HashOf(File.ReadAllBytes(_secret)));

        var expected = $"iter_10: MANIFEST.json entry '{PrintableText.Escape(entry)}' {problem}; a checkpoint's files are plain names inside its folder (refused, nothing outside was read)";
        AssertRefused(path, older, expected);
    }

    [Fact]
    public void A_file_that_is_a_symbolic_link_out_of_the_folder_is_refused_and_not_followed()
    {
        var older = _store.Commit(Snapshots.At(5)).Path;
        var path = _store.Commit(Snapshots.At(10)).Path;
        var blob = Path.Combine(path, "optimizer.bin");
        File.Delete(blob);
        File.CreateSymbolicLink(blob, _secret);
        Reseal(path, "optimizer.bin", "optimizer.bin", SecretBytes, HashOf(File.ReadAllBytes(_secret)));

        AssertRefused(path, older, "iter_10: optimizer.bin is a symbolic link, not a file (refused, not followed)");
    }

    [Fact]
    public void A_link_to_dev_zero_declared_empty_is_refused_at_once_instead_of_read_forever()
    {
        var older = _store.Commit(Snapshots.At(5)).Path;
        var path = _store.Commit(Snapshots.At(10)).Path;
        var blob = Path.Combine(path, "optimizer.bin");
        File.Delete(blob);
        File.CreateSymbolicLink(blob, "/dev/zero");
        Reseal(path, "optimizer.bin", "optimizer.bin", 0, HashOf([]));

        AssertRefused(path, older, "iter_10: optimizer.bin is a symbolic link, not a file (refused, not followed)");
    }

    [Fact]
    public void A_fifo_in_place_of_a_file_is_refused_without_waiting_for_a_writer()
    {
        var older = _store.Commit(Snapshots.At(5)).Path;
        var path = _store.Commit(Snapshots.At(10)).Path;
        var blob = Path.Combine(path, "optimizer.bin");
        File.Delete(blob);
        using (var mkfifo = Process.Start("mkfifo", [blob]))
        {
            mkfifo.WaitForExit();
            Assert.Equal(0, mkfifo.ExitCode);
        }
        Reseal(path, "optimizer.bin", "optimizer.bin", 0, HashOf([]));

        AssertRefused(path, older, "iter_10: optimizer.bin is a FIFO, not a regular file (refused)");
    }

    [Fact]
    public void A_checkpoint_folder_that_is_a_link_elsewhere_is_refused()
    {
        var older = _store.Commit(Snapshots.At(5)).Path;
        var elsewhere = _store.Commit(Snapshots.At(10)).Path;
        var moved = _temp.Sub("elsewhere");
        Directory.Move(elsewhere, moved);
        Directory.CreateSymbolicLink(elsewhere, moved);

        AssertRefused(elsewhere, older, "iter_10: is a symbolic link, not a checkpoint folder (refused, not followed)");
    }

    [Theory]
    [InlineData(+1, "too long (13 of 12 bytes)")]
    [InlineData(-1, "truncated (11 of 12 bytes)")]
    public void A_declared_size_that_differs_from_the_real_file_is_refused_before_reading(int change, string problem)
    {
        var older = _store.Commit(WithBlob(Snapshots.At(5), 12)).Path;
        var path = _store.Commit(WithBlob(Snapshots.At(10), 12)).Path;
        var blob = Path.Combine(path, "optimizer.bin");
        var bytes = File.ReadAllBytes(blob);
        File.WriteAllBytes(blob, change > 0 ? [.. bytes, 0] : bytes[..^1]);

        AssertRefused(path, older, $"iter_10: optimizer.bin is {problem}");
    }

    [Fact]
    public void Bytes_past_the_last_tensor_of_model_weights_are_refused_even_when_sealed()
    {
        var older = _store.Commit(Snapshots.At(5)).Path;
        var path = _store.Commit(Snapshots.At(10)).Path;
        var weights = Path.Combine(path, "model.weights");
        byte[] padded = [.. File.ReadAllBytes(weights), .. new byte[16]];
        File.WriteAllBytes(weights, padded);
        Reseal(path, "model.weights", "model.weights", padded.Length, HashOf(padded));

        AssertRefused(path, older, "iter_10: model.weights matches the manifest but cannot be read (16 bytes follow the last tensor)");
    }

    [Fact]
    public void Bytes_past_the_end_of_a_sealed_optimizer_state_are_refused_when_it_is_restored()
    {
        using var model = nn.Linear(3, 2);
        using var optimizer = optim.Adam(model.parameters(), 0.01);
        using (var loss = model.forward(ones(4, 3)).sum())
        {
            loss.backward();
        }
        optimizer.step();
        var checkpointer = new CheckpointComponents();
        checkpointer.Add("optimizer", new OptimizerCheckpointable(optimizer, CPU));
        var path = _store.Commit(checkpointer.Capture(new CheckpointInfo("t", 10, 0, 0, "", "forced", DateTimeOffset.UnixEpoch, 1)).Complete()).Path;
        checkpointer.Restore(_store.Load(path)); // as written, it restores
        var blob = Path.Combine(path, "optimizer.bin");
        byte[] padded = [.. File.ReadAllBytes(blob), .. new byte[1000]];
        File.WriteAllBytes(blob, padded);
        Reseal(path, "optimizer.bin", "optimizer.bin", padded.Length, HashOf(padded));

        var refused = Assert.Throws<CorruptCheckpointException>(() => checkpointer.Restore(_store.Load(path)));

        Assert.Equal("iter_10: optimizer.bin holds 1000 bytes past the end of the optimizer's state (crafted or corrupt, refused)", refused.Message);
    }

    [Fact]
    public void A_sealed_tensor_name_of_negative_length_is_refused_as_corrupt_not_as_an_io_error()
    {
        var older = _store.Commit(Snapshots.At(5)).Path;
        var path = _store.Commit(Snapshots.At(10)).Path;
        byte[] forged = [0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x06, 0x00]; // one tensor, its name -1 bytes long
        File.WriteAllBytes(Path.Combine(path, "model.weights"), forged);
        Reseal(path, "model.weights", "model.weights", forged.Length, HashOf(forged));

        AssertRefused(path, older, "iter_10: model.weights matches the manifest but cannot be read (a tensor name of -1 bytes does not fit the file)");
    }

    [Theory]
    [InlineData(1L << 62)]
    [InlineData(-1L)]
    public void An_absurd_sealed_iteration_is_refused(long iteration)
    {
        var older = _store.Commit(Snapshots.At(5)).Path;
        var path = _store.Commit(Snapshots.At(10)).Path;
        var manifest = ReadManifest(path);
        WriteSealed(path, manifest with { Iteration = iteration, Info = manifest.Info! with { Iteration = iteration } });

        AssertRefused(path, older, $"iter_10: MANIFEST.json entry iteration is {iteration}, outside 0 to 2^53 (no run reaches it: crafted or corrupt, refused)");
    }

    [Fact]
    public void A_tensor_name_that_would_forge_a_line_is_escaped_in_the_refusal()
    {
        var path = _store.Commit(Snapshots.At(10)).Path;
        var weights = Path.Combine(path, "model.weights");
        // A forged shape of 10^12 elements over 16 bytes, named to forge a line and clear the screen.
        var forged = new HostTensor(ScalarType.Float32, [1_000_000_000_000], new byte[16]);
        using (var stream = File.Create(weights))
        {
            TensorFile.Write(stream, [KeyValuePair.Create("w\nweights-sha256: forged\u001b[2J", forged)]);
        }
        var bytes = File.ReadAllBytes(weights);
        Reseal(path, "model.weights", "model.weights", bytes.Length, HashOf(bytes));

        var problem = _store.Verify(path).Problem!;

        Assert.Equal(
            $"iter_10: model.weights matches the manifest but cannot be read (tensor 'w\\nweights-sha256: forged\\u{{001B}}[2J' is cut short: it needs 4000000000000 bytes, the file holds at most {bytes.Length})",
            problem);
    }

    [Theory]
    [InlineData("fc.weight", "fc.weight")]
    [InlineData("a\nweights-sha256: x", "a\\nweights-sha256: x")]
    [InlineData("\u001b[31mred\r\t", "\\u{001B}[31mred\\r\\t")]
    [InlineData("bidi\u202eevil\u2028", "bidi\\u{202E}evil\\u{2028}")]
    [InlineData("back\\slash", "back\\slash")] // kept, so escaping twice changes nothing
    public void Printable_text_has_no_control_or_format_characters_left(string text, string printed)
    {
        Assert.Equal(printed, PrintableText.Escape(text));
        Assert.Equal(printed, PrintableText.Escape(PrintableText.Escape(text)));
    }

    private void AssertRefused(string path, string older, string expected)
    {
        var verdict = _store.Verify(path);
        var (latest, skipped) = _store.LoadLatestValid();
        var (found, _) = _store.FindLatestValid();

        Assert.Equal(expected, verdict.Problem);
        Assert.Equal(expected, Assert.Throws<CorruptCheckpointException>(() => _store.Load(path)).Message);
        Assert.Equal(Path.GetFullPath(older), latest!.Path);
        Assert.Equal(Path.GetFullPath(older), found!.Path);
        Assert.Equal([expected], skipped);
        Assert.DoesNotContain(SecretBytes.ToString(System.Globalization.CultureInfo.InvariantCulture), expected, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', expected);
    }

    private static CheckpointManifest ReadManifest(string path) => CheckpointManifest.Parse(File.ReadAllBytes(Path.Combine(path, "MANIFEST.json")));

    private static void WriteSealed(string path, CheckpointManifest manifest)
    {
        var manifestPath = Path.Combine(path, "MANIFEST.json");
        File.Delete(manifestPath);
        File.WriteAllBytes(manifestPath, ManifestSeal.Sealed(manifest));
    }

    // Replaces the entry <paramref name="file"/> with <paramref name="entry"/> (and the component that names it).
    private static void Reseal(string path, string file, string entry, long bytes, string xxh128)
    {
        var manifest = ReadManifest(path);
        var files = manifest.Files.Where(f => f.Key != file).ToDictionary(f => f.Key, f => f.Value);
        files[entry] = new ManifestEntry(bytes, xxh128);
        var components = manifest.Components!.ToDictionary(
            c => c.Key,
            c => c.Value with { BlobFile = c.Value.BlobFile == file ? entry : c.Value.BlobFile, TensorFile = c.Value.TensorFile == file ? entry : c.Value.TensorFile });
        WriteSealed(path, manifest with { Files = files, Components = components });
    }

    private static string HashOf(byte[] bytes)
    {
        using var checksum = FileChecksum.Xxh128();
        checksum.Append(bytes);
        return checksum.Finish();
    }

    private static CheckpointSnapshot WithBlob(CheckpointSnapshot snapshot, int length)
    {
        var components = new Dictionary<string, ComponentState>(snapshot.Components, StringComparer.Ordinal)
        {
            ["optimizer"] = snapshot.Components["optimizer"] with { Blob = new byte[length] },
        };
        return snapshot with { Components = components };
    }
}
