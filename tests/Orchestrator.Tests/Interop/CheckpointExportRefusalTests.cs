using Orchestrator.Tests.Support;

namespace Orchestrator.Tests.Interop;

/// <summary>
/// What <c>checkpoints export</c> refuses, each in one line with no stack trace: a checkpoint that does not
/// verify, an output that exists (unless --force), bad arguments, a folder it may not write (exit 2), and a
/// disk that fills up during the write (exit 1). None leaves a file under the output's name or a temporary one.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")] // tmpfs and Unix permission bits
public sealed class CheckpointExportRefusalTests : IDisposable
{
    private readonly TempDirectory _temp = new();
    private readonly List<TmpfsMount> _mounts = [];
    private string? _readOnly;

    public void Dispose()
    {
        _mounts.ForEach(m => m.Dispose());
        if (_readOnly is not null)
        {
            File.SetUnixFileMode(_readOnly, (UnixFileMode)0b111_101_101);
        }
        _temp.Dispose();
    }

    [Fact]
    public void A_checkpoint_that_does_not_verify_is_refused_and_nothing_is_written()
    {
        var checkpoint = Trained("mlp", 10);
        var weights = Path.Combine(checkpoint, "model.weights");
        var bytes = File.ReadAllBytes(weights);
        bytes[bytes.Length / 2] ^= 0x01;
        File.WriteAllBytes(weights, bytes);
        var output = _temp.Sub("out.pt");

        var line = Refused(CliProcess.Run(["checkpoints", "export", checkpoint, "--format", "pytorch", "--out", output]), ExitCode: 2);

        Assert.Equal($"error: iter_10: model.weights is corrupt (XXH128 does not match the manifest); a checkpoint that does not verify is not exported (checkpoints verify {checkpoint})", line);
        Assert.Empty(Directory.EnumerateFiles(_temp.Path));
    }

    [Fact]
    public void An_existing_output_is_refused_unless_forced_then_replaced_whole()
    {
        var checkpoint = Trained("mlp", 10);
        var output = _temp.Sub("model.safetensors");
        var optimizer = _temp.Sub("model.optimizer.safetensors");
        File.WriteAllText(optimizer, "mine");
        string[] export = ["checkpoints", "export", checkpoint, "--format", "safetensors", "--out", output, "--with-optimizer"];

        Assert.Equal($"error: {optimizer} exists; give another --out or add --force to replace it", Refused(CliProcess.Run(export), ExitCode: 2));
        Assert.Equal("mine", File.ReadAllText(optimizer));
        Assert.False(File.Exists(output));

        var forced = CliProcess.Run([.. export, "--force"]);

        Assert.True(forced.ExitCode == 0, forced.ToString());
        Assert.NotEqual("mine", File.ReadAllText(optimizer));
        Assert.Equal(["model.optimizer.safetensors", "model.safetensors"], Directory.EnumerateFiles(_temp.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("--out|OUT", "error: checkpoints export needs --format safetensors or --format pytorch: orchestrator checkpoints export CKPT|DIR --format safetensors|pytorch --out FILE [--prefix P] [--with-optimizer] [--force]")]
    [InlineData("--format|onnx|--out|OUT", "error: --format onnx is not known; give safetensors or pytorch")]
    [InlineData("--format|pytorch", "error: checkpoints export needs --out FILE: orchestrator checkpoints export CKPT|DIR --format safetensors|pytorch --out FILE [--prefix P] [--with-optimizer] [--force]")]
    [InlineData("--format|pytorch|--out|MISSING/m.pt", "error: --out MISSING/m.pt: folder MISSING does not exist; create it or give another --out")]
    [InlineData("--format|pytorch|--out|OUT|--with-optimizer=yes", "error: unknown option --with-optimizer for 'checkpoints export' (orchestrator checkpoints export --help lists them)")]
    public void Bad_arguments_are_one_line(string arguments, string expected)
    {
        var checkpoint = Trained("mlp", 10);
        var missing = _temp.Sub("missing");
        string Fill(string text) => text.Replace("MISSING", missing, StringComparison.Ordinal).Replace("OUT", _temp.Sub("m.pt"), StringComparison.Ordinal);

        var line = Refused(CliProcess.Run(["checkpoints", "export", checkpoint, .. arguments.Split('|').Select(Fill)]), ExitCode: 2);

        Assert.Equal(Fill(expected), line);
    }

    [Fact]
    public void A_disk_that_fills_up_during_the_export_is_one_line_and_leaves_no_file()
    {
        var checkpoint = Trained("mlp", 10, "--width", "256"); // some 280 KB of weights
        var mount = new TmpfsMount(_temp.Sub("small"), kilobytes: 64);
        _mounts.Add(mount);
        var output = Path.Combine(mount.Path, "model.pt");

        var line = Refused(CliProcess.Run(["checkpoints", "export", checkpoint, "--format", "pytorch", "--out", output]), ExitCode: 1);

        Assert.Equal($"error: no space left on {mount.Path} while exporting to {output} (nothing was written under that name and the checkpoint is unchanged; free space and rerun)", line);
        Assert.Empty(Directory.EnumerateFileSystemEntries(mount.Path));
    }

    [Fact]
    public void A_folder_it_may_not_write_is_refused_before_the_checkpoint_is_read()
    {
        var checkpoint = Trained("mlp", 10);
        _readOnly = _temp.Sub("readonly");
        Directory.CreateDirectory(_readOnly);
        File.SetUnixFileMode(_readOnly, (UnixFileMode)0b101_101_101);

        var line = Refused(WithoutPermissionOverride.Run(["checkpoints", "export", checkpoint, "--format", "safetensors", "--out", Path.Combine(_readOnly, "m.safetensors")]), ExitCode: 2);

        Assert.Equal($"error: cannot write in {_readOnly} (permission denied); give an --out in a folder you can write", line);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_readOnly));
    }

    private string Trained(string job, int steps, params string[] more)
    {
        var workDir = _temp.Sub($"work-{Guid.NewGuid():N}");
        var train = CliProcess.Run(CliProcess.Train(job, workDir, steps, steps, more));
        Assert.True(train.ExitCode == 0, train.ToString());
        // The work dir lives beside the outputs; tests that list the temp folder see only files.
        return Path.Combine(workDir, "checkpoints", $"iter_{steps}");
    }

    private static string Refused(CliResult result, int ExitCode)
    {
        Assert.True(result.ExitCode == ExitCode, result.ToString());
        Assert.DoesNotContain("Exception", result.Error, StringComparison.Ordinal);
        return Assert.Single(result.Error.Trim().Split('\n'));
    }

}
