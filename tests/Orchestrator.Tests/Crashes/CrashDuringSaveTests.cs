using System.Text.RegularExpressions;
using Orchestrator.Tests.Support;

namespace Orchestrator.Tests.Crashes;

/// <summary>The process is killed between each write step of a save, or its files are damaged afterwards.</summary>
public sealed partial class CrashDuringSaveTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    public static TheoryData<string> SavePhases() =>
    [
        "save:wrote-model.weights#2",
        "save:wrote-optimizer.bin#2",
        "save:wrote-manifest#2",
        "save:synced#2",
        "save:renamed#2",
        "save:committed#2",
        "save:pointer-moved#2",
        "save:wrote-model.weights#1",
    ];

    [Theory]
    [MemberData(nameof(SavePhases))]
    public void Killed_at_any_step_of_a_save_the_run_resumes_from_a_valid_checkpoint(string phase)
    {
        var straight = ReferenceRuns.WeightsSha256("cnn", 40);
        var dir = _temp.Sub("crashed");

        var killed = CliProcess.Run(CliProcess.Train("cnn", dir, 40), new Dictionary<string, string> { ["ORCHESTRATOR_KILL_AT"] = phase });
        var pointer = Path.Combine(dir, "checkpoints", "latest");
        var latestAfterKill = File.Exists(pointer) ? File.ReadAllText(pointer).Trim() : null; // none before the first commit
        var verify = CliProcess.Run(["checkpoints", "verify", dir]);
        var resumed = CliProcess.Run(CliProcess.Train("cnn", dir, 40));
        var history = CliProcess.Run(["history", "--work-dir", dir]);

        Assert.Equal(137, killed.ExitCode);
        Assert.True(verify.ExitCode == 0, verify.ToString());
        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.Equal(straight, resumed.WeightsSha256);
        Assert.Empty(Directory.GetDirectories(Path.Combine(dir, "checkpoints"), ".*"));
        Assert.Empty(Directory.GetFiles(Path.Combine(dir, "checkpoints"), ".*"));
        Assert.True(latestAfterKill is null || Directory.Exists(Path.Combine(dir, "checkpoints", latestAfterKill)), $"latest names {latestAfterKill}, which is not committed");
        // A kill between the commit on disk and its journal record still leaves a history that names every checkpoint a run started from.
        Assert.True(history.ExitCode == 0, history.ToString());
        var startedFrom = ResumedFrom().Matches(history.Output).Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(latestAfterKill is not null, startedFrom.Count > 0);
        Assert.All(startedFrom, name => Assert.Matches($@"checkpoint +{name} \(\w+\) at step \d+", history.Output));
        if (phase is "save:committed#2" or "save:pointer-moved#2")
        {
            Assert.Contains("iter_20 was committed but not yet in the journal when the last run ended; recorded now", resumed.Error);
            Assert.Matches(@"checkpoint +iter_20 \(schedule\) at step 20, loss not recorded", history.Output);
        }
    }

    [Theory]
    [InlineData("truncate", "iter_30: model.weights is truncated")]
    [InlineData("flip", "iter_30: model.weights is corrupt (XXH128 does not match the manifest)")]
    [InlineData("delete-manifest", "iter_30: MANIFEST.json is missing, the save never completed")]
    public void A_damaged_newest_checkpoint_is_named_by_verify_and_skipped_on_resume(string damage, string expected)
    {
        var straight = ReferenceRuns.WeightsSha256("mlp", 40);
        var dir = _temp.Sub("damaged");
        CliProcess.Run(CliProcess.Train("mlp", dir, 30));
        var weights = Path.Combine(dir, "checkpoints", "iter_30", "model.weights");
        switch (damage)
        {
            case "truncate":
                File.WriteAllBytes(weights, File.ReadAllBytes(weights)[..100]);
                break;
            case "flip":
                var bytes = File.ReadAllBytes(weights);
                bytes[bytes.Length / 2] ^= 0x01;
                File.WriteAllBytes(weights, bytes);
                break;
            default:
                File.Delete(Path.Combine(dir, "checkpoints", "iter_30", "MANIFEST.json"));
                break;
        }

        var verify = CliProcess.Run(["checkpoints", "verify", dir]);
        var single = CliProcess.Run(["checkpoints", "verify", Path.Combine(dir, "checkpoints", "iter_30")]);
        var resumed = CliProcess.Run(CliProcess.Train("mlp", dir, 40));

        Assert.Equal(1, verify.ExitCode);
        Assert.Contains($"BAD  {expected}", verify.Output);
        Assert.Contains("ok   iter_20", verify.Output);
        Assert.Equal(1, single.ExitCode);
        Assert.Contains($"skipping invalid checkpoint: {expected}", resumed.Error);
        Assert.Contains("resumed from iter_20 at step 20", resumed.Error);
        Assert.Equal(straight, resumed.WeightsSha256);
    }

    [GeneratedRegex(@"ranks started +generation \d+, \d+ rank\(s\), from (iter_\d+)")]
    private static partial Regex ResumedFrom();
}
