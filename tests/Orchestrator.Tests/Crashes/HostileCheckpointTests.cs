using System.Diagnostics;
using System.IO.Hashing;
using System.Text;
using System.Text.Json;
using Orchestrator.Tests.Support;
using Orchestrator.Trainer.Checkpointing;
using Orchestrator.Trainer.Tensors;

namespace Orchestrator.Tests.Crashes;

/// <summary>
/// Checkpoints re-sealed by an attacker, driven through the real program: a manifest naming a file outside
/// the folder or a device is refused by verify, inspect and resume in one line that reveals nothing about
/// the file, and resume falls back to the checkpoint before; a tensor name cannot forge a line of inspect.
/// </summary>
public sealed class HostileCheckpointTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData("/dev/zero")] // declared empty: verify and inspect read forever, resume ignored SIGTERM
    [InlineData("../../../secret.txt")] // with the secret's size and hash: it verified "ok" and resumed
    public void A_manifest_naming_a_file_outside_is_refused_by_verify_inspect_and_resume(string entry)
    {
        var straight = ReferenceRuns.WeightsSha256("mlp", 40);
        var dir = _temp.Sub("hostile");
        CliProcess.Run(CliProcess.Train("mlp", dir, 30));
        var secret = _temp.Sub("secret.txt");
        File.WriteAllBytes(secret, Enumerable.Repeat((byte)'s', 631).ToArray());
        var newest = Path.Combine(dir, "checkpoints", "iter_30");
        Assert.Equal(secret, Path.GetFullPath(Path.Combine(newest, "../../../secret.txt")));
        ResealWith(newest, "optimizer.bin", entry, entry == "/dev/zero" ? [] : File.ReadAllBytes(secret));
        var expected = $"iter_30: MANIFEST.json entry '{entry}' is a path, not a file name; a checkpoint's files are plain names inside its folder (refused, nothing outside was read)";

        var clock = Stopwatch.StartNew();
        var verify = CliProcess.Run(["checkpoints", "verify", dir]);
        var inspect = CliProcess.Run(["checkpoints", "inspect", newest]);
        var refusedWithin = clock.Elapsed;
        var resumed = CliProcess.Run(CliProcess.Train("mlp", dir, 40));

        Assert.Equal(1, verify.ExitCode);
        Assert.Contains($"BAD  {expected}\n", verify.Output, StringComparison.Ordinal);
        Assert.Contains("ok   iter_20", verify.Output, StringComparison.Ordinal);
        Assert.Equal(2, inspect.ExitCode);
        Assert.Equal($"error: {expected}\n", inspect.Error);
        Assert.True(refusedWithin < TimeSpan.FromSeconds(60), $"verify and inspect took {refusedWithin}");
        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.Contains($"skipping invalid checkpoint: {expected}", resumed.Error, StringComparison.Ordinal);
        Assert.Contains("resumed from iter_20 at step 20", resumed.Error, StringComparison.Ordinal);
        Assert.Equal(straight, resumed.WeightsSha256);
        Assert.DoesNotContain("631", verify.Output + inspect.Error + resumed.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Resume_auto_falls_back_from_a_padded_optimizer_state_and_resume_path_refuses_it()
    {
        var straight = ReferenceRuns.WeightsSha256("mlp", 40);
        var dir = _temp.Sub("padded");
        CliProcess.Run(CliProcess.Train("mlp", dir, 30));
        var newest = Path.Combine(dir, "checkpoints", "iter_30");
        ResealWith(newest, "optimizer.bin", "optimizer.bin", [.. File.ReadAllBytes(Path.Combine(newest, "optimizer.bin")), .. new byte[1000]]);
        const string Refusal = "iter_30: optimizer.bin holds 1000 bytes past the end of the optimizer's state (crafted or corrupt, refused)";

        var named = CliProcess.Run(CliProcess.Train("mlp", _temp.Sub("other"), 40, 10, "--resume", newest));
        var resumed = CliProcess.Run(CliProcess.Train("mlp", dir, 40));

        Assert.True(named.ExitCode == 2, named.ToString());
        Assert.Equal($"error: {Refusal}", Assert.Single(named.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.Equal($"{Refusal}; resuming from iter_20 instead", Assert.Single(resumed.Error.Split('\n'), l => l.Contains("iter_30:", StringComparison.Ordinal)));
        Assert.Contains("resumed from iter_20 at step 20", resumed.Error, StringComparison.Ordinal);
        Assert.Equal(straight, resumed.WeightsSha256);
    }

    [Fact]
    public void A_sparse_multi_gigabyte_optimizer_state_is_refused_at_once_and_the_run_starts_fresh()
    {
        var straight = ReferenceRuns.WeightsSha256("mlp", 20);
        var dir = _temp.Sub("sparse");
        CliProcess.Run(CliProcess.Train("mlp", dir, 10));
        var only = Path.Combine(dir, "checkpoints", "iter_10");
        const long Padded = 3L << 30; // sparse: the disk holds almost none of it
        using (var blob = new FileStream(Path.Combine(only, "optimizer.bin"), FileMode.Open, FileAccess.Write))
        {
            blob.SetLength(Padded);
        }
        // The size is sealed as it is; the hash is not recomputed, since the bound refuses before any byte is
        // hashed (without it, 3 GiB would be read, then refused for the hash, slowly).
        Reseal(only, "optimizer.bin", "optimizer.bin", new ManifestEntry(Padded, ManifestOf(only).Files["optimizer.bin"].Xxh128));

        var clock = Stopwatch.StartNew();
        var resumed = CliProcess.Run(CliProcess.Train("mlp", dir, 20));
        var took = clock.Elapsed;

        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.Matches(@"skipping invalid checkpoint: iter_10: optimizer\.bin declares 3221225472 bytes, more than an optimizer's state for this model can take \(at most \d+: 8 x the model's \d+ bytes \+ 1048576\); crafted or corrupt, refused\n", resumed.Error);
        Assert.DoesNotContain("resumed from", resumed.Error, StringComparison.Ordinal);
        Assert.Equal(straight, resumed.WeightsSha256);
        Assert.True(took < TimeSpan.FromSeconds(60), $"the refused run took {took}");
    }

    [Fact]
    public void A_tensor_name_holding_a_newline_and_escapes_cannot_forge_a_line_of_inspect()
    {
        var dir = _temp.Sub("forged");
        CliProcess.Run(CliProcess.Train("mlp", dir, 10));
        var checkpoint = Path.Combine(dir, "checkpoints", "iter_10");
        var weights = Path.Combine(checkpoint, "model.weights");
        List<KeyValuePair<string, HostTensor>> tensors;
        using (var stream = File.OpenRead(weights))
        {
            tensors = TensorFile.Read(stream);
        }
        var (name, first) = tensors[0];
        tensors[0] = KeyValuePair.Create($"{name}\n weights-sha256: forged\u001b[1A\u001b[2K", first);
        using var rewritten = new MemoryStream();
        TensorFile.Write(rewritten, tensors);
        ResealWith(checkpoint, "model.weights", "model.weights", rewritten.ToArray());

        var inspect = CliProcess.Run(["checkpoints", "inspect", checkpoint]);

        Assert.True(inspect.ExitCode == 0, inspect.ToString());
        Assert.DoesNotContain("\u001b", inspect.Output, StringComparison.Ordinal);
        Assert.Contains($"model/{name}\\n weights-sha256: forged\\u{{001B}}[1A\\u{{001B}}[2K Float32", inspect.Output, StringComparison.Ordinal);
        Assert.Single(inspect.Output.Split('\n'), l => l.TrimStart().StartsWith("weights-sha256:", StringComparison.Ordinal));
        Assert.NotEqual("forged", inspect.WeightsSha256);
    }

    // What the attacker did: the file's bytes in place under the entry's name (when it is inside), and the
    // manifest rewritten to name it, with its size and hash, and sealed again exactly as the program seals.
    private static void ResealWith(string checkpoint, string file, string entry, byte[] bytes)
    {
        if (!entry.Contains('/'))
        {
            File.WriteAllBytes(Path.Combine(checkpoint, entry), bytes);
        }
        Reseal(checkpoint, file, entry, new ManifestEntry(bytes.Length, Convert.ToHexStringLower(XxHash128.Hash(bytes))));
    }

    private static CheckpointManifest ManifestOf(string checkpoint) => CheckpointManifest.Parse(File.ReadAllBytes(Path.Combine(checkpoint, "MANIFEST.json")));

    private static void Reseal(string checkpoint, string file, string entry, ManifestEntry sealedAs)
    {
        var manifestPath = Path.Combine(checkpoint, "MANIFEST.json");
        var manifest = ManifestOf(checkpoint);
        var files = manifest.Files.Where(f => f.Key != file).ToDictionary(f => f.Key, f => f.Value);
        files[entry] = sealedAs;
        var components = manifest.Components!.ToDictionary(
            c => c.Key,
            c => c.Value with { BlobFile = c.Value.BlobFile == file ? entry : c.Value.BlobFile, TensorFile = c.Value.TensorFile == file ? entry : c.Value.TensorFile });
        var unsealed = JsonSerializer.SerializeToUtf8Bytes(manifest with { ManifestXxh128 = new string('0', 32), Files = files, Components = components }, CheckpointJson.Options);
        var at = unsealed.AsSpan().IndexOf("\"manifestXxh128\": \""u8) + "\"manifestXxh128\": \"".Length;
        Encoding.ASCII.GetBytes(Convert.ToHexStringLower(XxHash128.Hash(unsealed)), unsealed.AsSpan(at, 32));
        File.WriteAllBytes(manifestPath, unsealed);
    }
}
