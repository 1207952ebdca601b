using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Orchestrator.Tests.Support;

namespace Orchestrator.Tests.Crashes;

/// <summary>
/// A journal.db cut to half, or with bytes overwritten, after a job was killed: history, status and train
/// each say so in one line and exit 1 within seconds (not a minute's timeout and pages of stack), naming
/// the checkpoint a rerun resumes from; with the journal moved aside, the rerun matches the uninterrupted run.
/// </summary>
public sealed class DamagedJournalTests : IDisposable
{
    private const int Steps = 40;
    // Well under the minute (history, status) and 31 s (train) of before, with room for a loaded 2-core CI machine.
    private static readonly TimeSpan Promptly = TimeSpan.FromSeconds(20);
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void A_journal_cut_to_half_is_named_in_one_line_and_moving_it_aside_resumes_identically() =>
        DamageAndResume(journal =>
        {
            using var file = new FileStream(journal, FileMode.Open);
            file.SetLength(file.Length / 2);
        }, "(SQLite: database disk image is malformed");

    [Fact]
    public void A_journal_with_garbage_in_the_middle_is_named_in_one_line_and_moving_it_aside_resumes_identically() =>
        DamageAndResume(journal =>
        {
            using var file = new FileStream(journal, FileMode.Open);
            file.Position = file.Length / 2;
            file.Write(Enumerable.Repeat((byte)0xA5, 4096).ToArray());
        }, "(SQLite: database disk image is malformed");

    [Fact]
    public void An_event_overwritten_inside_a_sound_file_is_named_in_one_line_and_moving_it_aside_resumes_identically() =>
        // SQLite's own check passes (the pages are sound); the event no longer parses when it is replayed.
        DamageAndResume(journal =>
        {
            var bytes = File.ReadAllBytes(journal);
            var at = bytes.AsSpan().IndexOf("CheckpointCommitted"u8);
            Assert.True(at > 0, "no CheckpointCommitted event in the journal");
            using var file = new FileStream(journal, FileMode.Open);
            file.Position = at;
            file.Write(Encoding.ASCII.GetBytes("\u0001\u0002garbage\u0003"));
        }, "(an event does not parse: ");

    private void DamageAndResume(Action<string> damage, string detail)
    {
        var straight = ReferenceRuns.WeightsSha256("mlp", Steps);
        var dir = _temp.Sub("damaged");
        string[] command = [.. CliProcess.Train("mlp", dir, Steps)];
        var killed = CliProcess.Run([.. command, "--inject-fault", "kill-process@step=25"]);
        Assert.Equal(137, killed.ExitCode);
        var journal = Path.Combine(dir, "journal.db");
        damage(journal);

        foreach (var reader in new[] { "history", "status", "plot" })
        {
            var (read, readTook) = Timed(["reader", "--work-dir", dir], reader);
            Assert.True(read.ExitCode == 1, read.ToString());
            var line = Assert.Single(NonEmpty(read.Error));
            Assert.StartsWith($"error: {journal} is damaged {detail}", line);
            Assert.EndsWith("the checkpoints are intact: move it aside and rerun 'orchestrator train' to resume from the newest (the job's history starts anew)", line);
            Assert.True(readTook < Promptly, $"{reader} took {readTook}");
        }
        var (train, trainTook) = Timed(command);
        Assert.True(train.ExitCode == 1, train.ToString());
        var trainLine = Assert.Single(NonEmpty(train.Error), l => !l.StartsWith("job mlp:", StringComparison.Ordinal));
        Assert.StartsWith($"error: {journal} is damaged {detail}", trainLine);
        // The kill at step 25 may land while iter_20 is still being written in the background.
        var newest = Regex.Match(trainLine, "the checkpoints are intact: move it aside and rerun to resume from (iter_(10|20))$").Groups[1].Value;
        Assert.True(newest.Length > 0, trainLine);
        Assert.True(trainTook < Promptly, $"train took {trainTook}");
        Assert.Equal(0, CliProcess.Run(["checkpoints", "verify", Path.Combine(dir, "checkpoints", newest)]).ExitCode);

        File.Move(journal, journal + ".damaged");
        var rerun = CliProcess.Run(command);

        Assert.True(rerun.ExitCode == 0, rerun.ToString());
        Assert.Contains($"resumed from {newest}", rerun.Error);
        Assert.Equal(straight, rerun.WeightsSha256);
    }

    private static (CliResult Result, TimeSpan Took) Timed(string[] args, string? command = null)
    {
        var clock = Stopwatch.StartNew();
        var result = CliProcess.Run(command is null ? args : [command, .. args[1..]]);
        return (result, clock.Elapsed);
    }

    private static List<string> NonEmpty(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
}
