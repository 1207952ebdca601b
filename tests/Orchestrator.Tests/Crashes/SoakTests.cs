using Orchestrator.Soak;
using Xunit.Abstractions;
using Orchestrator.Tests.Support;

namespace Orchestrator.Tests.Crashes;

/// <summary>
/// The kill -9 soak of bench/Orchestrator.Soak, bounded for the default test run: random kills across every
/// job, R = 1 and 2, async and sync saves, then reruns; nothing may fail to resume, end on other weights, or
/// lose a committed checkpoint. The long run is the program: dotnet run -c Release --project bench/Orchestrator.Soak.
/// </summary>
public sealed class SoakTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void A_dozen_random_kills_lose_nothing_and_resume_exactly()
    {
        // Two kills an episode over six configurations, every job at R = 1 and 2 and both save modes among
        // them: each gets an episode (more than one if a run ends before its kill moment). All twelve are the
        // program's to soak; here the suite's time budget rules. The seed is fixed, so a failure here replays
        // with the program (--seed 33 or --replay).
        SoakConfiguration[] configurations =
            [.. new[] { "mlp:1:async", "mlp:2:sync", "cnn:1:sync", "cnn:2:async", "charlm:1:async", "charlm:2:sync" }.Select(SoakConfiguration.Parse)];
        var options = new SoakOptions(
            Kills: 12, Seed: 33, MinKillsPerEpisode: 2, MaxKillsPerEpisode: 2, RunShape.Small, configurations,
            _temp.Path, OrchestratorProgram.Dll);

        var result = new SoakEngine(options, output.WriteLine).Run();
        output.WriteLine(result.Table());

        Assert.True(result.Total.Kills >= 12, result.Table());
        Assert.True(result.PerConfiguration.Values.All(c => c.Episodes > 0), result.Table());
        Assert.True(result.Clean, string.Join("\n", result.Failures) + "\n" + result.Table());
        Assert.Equal(0, result.Total.FailedResumes);
        Assert.Equal(0, result.Total.DigestMismatches);
        Assert.Equal(0, result.Total.LostCheckpoints);
    }

    [Fact]
    public void The_soak_sees_a_damaged_or_missing_checkpoint_and_which_one_a_rerun_resumed_from()
    {
        // The soak's verdicts are only as good as what it reads: a damaged or deleted checkpoint must count
        // as lost, and the rerun's start line must be read, or the resume check would pass by never running.
        var dll = OrchestratorProgram.Dll;
        var dir = _temp.Sub("run");
        var configuration = new SoakConfiguration("mlp", 1, SaveMode.Async);
        var shape = new RunShape(Steps: 20, CheckpointEvery: 5, Samples: 512);
        var first = OrchestratorRun.Run(dll, configuration.TrainArguments(dir, shape));
        Assert.True(first.ExitCode == 0, first.Tail);
        Assert.Equal("", first.ResumedFrom); // a fresh start
        var committed = CommittedCheckpoints.Before(dir);
        Assert.Equal(["iter_10", "iter_15", "iter_20", "iter_5"], committed.Order(StringComparer.Ordinal));

        File.WriteAllBytes(Path.Combine(dir, "checkpoints", "iter_20", "model.weights"), [1, 2, 3]);
        Directory.Delete(Path.Combine(dir, "checkpoints", "iter_10"), recursive: true);
        var listing = CommittedCheckpoints.After(dll, dir);

        Assert.Null(listing.Failure);
        Assert.Contains("no longer verifies (BAD: iter_20: model.weights is truncated", listing.Lost("iter_20"));
        Assert.Contains("is no longer listed", listing.Lost("iter_10"));
        Assert.Null(listing.Lost("iter_15"));
        Assert.Equal("iter_15", listing.NewestValid);
        var rerun = OrchestratorRun.Run(dll, configuration.TrainArguments(dir, shape));
        Assert.Equal("iter_15", rerun.ResumedFrom);
        // A kill before train made its work dir leaves nothing committed, and nothing lost.
        var never = CommittedCheckpoints.After(dll, _temp.Sub("never-made"));
        Assert.Null(never.Failure);
        Assert.Empty(never.Entries);
    }

    [Fact]
    public void The_sync_configurations_write_every_scheduled_save_on_the_training_thread()
    {
        // train has no flag for it: the soak's sync runs set ORCHESTRATOR_SYNC_SAVES. A save written on the
        // training thread stalls the step loop for its whole write; one written in the background does not.
        var configuration = new SoakConfiguration("mlp", 1, SaveMode.Sync);
        var run = OrchestratorRun.Run(OrchestratorProgram.Dll,
            configuration.TrainArguments(_temp.Sub("sync"), new RunShape(Steps: 20, CheckpointEvery: 5, Samples: 512)), configuration.Environment);

        Assert.True(run.ExitCode == 0, run.Tail);
        var scheduled = System.Text.RegularExpressions.Regex.Matches(run.Error, @"\(schedule\): .* stall ([0-9.]+) ms, write ([0-9.]+) ms");
        Assert.Equal(3, scheduled.Count);
        Assert.All(scheduled, save => Assert.True(
            double.Parse(save.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) >= double.Parse(save.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture),
            save.Value));
    }
}
