using System.Diagnostics;
using System.Text.RegularExpressions;
using Orchestrator.Tests.Support;

namespace Orchestrator.Tests.Crashes;

/// <summary>
/// A disk that really fills up (a small tmpfs) under TensorBoard, the checkpoints or the journal. TensorBoard
/// is a view: training goes on without it. A checkpoint or the journal that cannot be written ends the job
/// in one line and exit 1, within seconds, the committed checkpoints intact; with space freed, the same
/// command resumes to the uninterrupted weights.
/// </summary>
public sealed class DiskFullTests : IDisposable
{
    private const int Steps = 100;
    private readonly TempDirectory _temp = new();
    private readonly List<TmpfsMount> _mounts = [];

    public void Dispose()
    {
        foreach (var mount in _mounts)
        {
            mount.Dispose();
        }
        _temp.Dispose();
    }

    [Fact]
    public void TensorBoard_on_a_full_disk_warns_once_and_training_finishes_identically()
    {
        var straight = ReferenceRuns.WeightsSha256("mlp", Steps);
        var dir = _temp.Sub("full");
        // 8 KiB holds some 30 steps of scalars.
        Mount(Path.Combine(dir, "tensorboard"), kilobytes: 8);

        var run = CliProcess.Run(CliProcess.Train("mlp", dir, Steps));

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(straight, run.WeightsSha256);
        var warnings = Lines(run.Error).Where(l => l.Contains("TensorBoard", StringComparison.Ordinal)).ToList();
        Assert.Equal(["warning: TensorBoard logging stopped"], warnings.Select(w => w[..w.IndexOf(" (", StringComparison.Ordinal)]));
        Assert.Contains("No space left on device", warnings[0]);
        Assert.Contains($"checkpoint iter_{Steps} (final)", run.Error);
    }

    [Fact]
    public void A_checkpoint_save_on_a_full_disk_exits_1_in_one_line_and_the_rerun_after_freeing_space_matches()
    {
        var straight = ReferenceRuns.WeightsSha256("mlp", Steps);
        var dir = _temp.Sub("full");
        // One mlp checkpoint takes 84 KiB of tmpfs: iter_10 and iter_20 fit, iter_30 does not.
        var checkpoints = Mount(Path.Combine(dir, "checkpoints"), kilobytes: 200);

        var clock = Stopwatch.StartNew();
        var full = CliProcess.Run(CliProcess.Train("mlp", dir, Steps));
        var took = clock.Elapsed;

        Assert.True(full.ExitCode == 1, full.ToString());
        Assert.Equal([$"error: no space left on {dir} (checkpoints up to iter_20 are intact; free space and rerun)"], ErrorLines(full));
        AssertNoStack(full);
        // The start-up takes most of it (5 s on a loaded 2-core machine); restarts would take far longer.
        Assert.True(took < TimeSpan.FromSeconds(30), $"took {took}");
        Assert.Equal(0, CliProcess.Run(["checkpoints", "verify", Path.Combine(checkpoints.Path, "iter_20")]).ExitCode);

        checkpoints.Grow(10_240);
        var rerun = CliProcess.Run(CliProcess.Train("mlp", dir, Steps));

        Assert.True(rerun.ExitCode == 0, rerun.ToString());
        Assert.Contains("resumed from iter_20", rerun.Error);
        Assert.Equal(straight, rerun.WeightsSha256);
    }

    [Fact]
    public async Task A_journal_write_on_a_full_disk_exits_1_in_one_line_and_the_rerun_after_freeing_space_matches()
    {
        const int LongRun = 3000;
        var straight = ReferenceRuns.WeightsSha256("mlp", LongRun);
        var dir = _temp.Sub("job");
        var journalDisk = Mount(_temp.Sub("journal-disk"), kilobytes: 1024);
        string[] journal = ["--journal", $"sqlite:{Path.Combine(journalDisk.Path, "journal.db")}"];
        string[] command = [.. CliProcess.Train("mlp", dir, LongRun, every: 10, more: journal)];

        CliResult full;
        string filler;
        using (var running = CliProcess.Start(command))
        {
            await running.WaitForLineAsync(line => line.StartsWith("checkpoint iter_20 ", StringComparison.Ordinal));
            filler = journalDisk.Fill();
            full = running.WaitForExit();
        }

        Assert.True(full.ExitCode == 1, full.ToString());
        var error = Assert.Single(ErrorLines(full));
        Assert.Matches(JournalFullLine(journalDisk.Path), error);
        AssertNoStack(full);
        var newest = JournalFullLine(journalDisk.Path).Match(error).Groups[1].Value;
        Assert.Equal(0, CliProcess.Run(["checkpoints", "verify", Path.Combine(dir, "checkpoints", newest)]).ExitCode);

        File.Delete(filler);
        var rerun = CliProcess.Run(command);

        Assert.True(rerun.ExitCode == 0, rerun.ToString());
        Assert.Equal(straight, rerun.WeightsSha256);
    }

    [Fact]
    public void A_first_run_whose_journal_is_on_a_full_disk_exits_1_in_one_line_within_seconds()
    {
        var journalDisk = Mount(_temp.Sub("journal-disk"), kilobytes: 64);
        journalDisk.Fill();

        var clock = Stopwatch.StartNew();
        var run = CliProcess.Run(CliProcess.Train("mlp", _temp.Sub("job"), Steps, more: ["--journal", $"sqlite:{Path.Combine(journalDisk.Path, "journal.db")}"]));
        var took = clock.Elapsed;

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Equal([$"error: no space left on {journalDisk.Path} (no checkpoint was committed yet; free space and rerun)"], ErrorLines(run));
        AssertNoStack(run);
        // Without the up-front write the journal's table creation times out after 30 s; the start-up is a few.
        Assert.True(took < TimeSpan.FromSeconds(15), $"took {took}");
    }

    [Fact]
    public void A_fresh_work_dir_on_a_full_disk_exits_1_in_one_line_within_seconds()
    {
        var disk = Mount(_temp.Sub("disk"), kilobytes: 64);
        disk.Fill();
        var dir = Path.Combine(disk.Path, "job");

        var clock = Stopwatch.StartNew();
        var run = CliProcess.Run(CliProcess.Train("mlp", dir, Steps));
        var took = clock.Elapsed;

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Equal([$"error: no space left on {dir} (no checkpoint was committed yet; free space and rerun)"], ErrorLines(run));
        AssertNoStack(run);
        Assert.True(took < TimeSpan.FromSeconds(15), $"took {took}");
    }

    private TmpfsMount Mount(string path, int kilobytes)
    {
        var mount = new TmpfsMount(path, kilobytes);
        _mounts.Add(mount);
        return mount;
    }

    private static Regex JournalFullLine(string folder) =>
        new($@"^error: no space left on {Regex.Escape(folder)} \(checkpoints up to (iter_\d+) are intact; free space and rerun\)$");

    private static List<string> Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();

    private static List<string> ErrorLines(CliResult result) => Lines(result.Error).Where(l => l.StartsWith("error:", StringComparison.Ordinal)).ToList();

    private static void AssertNoStack(CliResult result) =>
        Assert.DoesNotContain(Lines(result.Output + result.Error), l => l.StartsWith("at ", StringComparison.Ordinal) || l.Contains("Exception", StringComparison.Ordinal));
}
