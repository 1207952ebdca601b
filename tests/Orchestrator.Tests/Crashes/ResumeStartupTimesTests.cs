using System.Globalization;
using System.Text.RegularExpressions;
using Orchestrator.Tests.Support;

namespace Orchestrator.Tests.Crashes;

/// <summary>
/// After kill -9, the rerun's start line says where the time to training again went, so an operator (and the
/// benchmark's recovery rows) can tell the process's own start from the journal's replay and the checkpoint's load.
/// </summary>
public sealed class ResumeStartupTimesTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void The_rerun_after_a_kill_splits_its_start_up_into_process_journal_and_checkpoint()
    {
        var dir = _temp.Sub("killed");
        var killed = CliProcess.Run(CliProcess.Train("mlp", dir, 40), new Dictionary<string, string> { ["ORCHESTRATOR_KILL_AT"] = "step:25" });
        Assert.Equal(137, killed.ExitCode);

        var resumed = CliProcess.Run(CliProcess.Train("mlp", dir, 40));

        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        // The kill may land while iter_20 is still being written in the background; then iter_10 is the newest.
        var line = Regex.Match(resumed.Error,
            @"resumed from iter_(10|20) at step (10|20), training to step 40 \(up in (?<up>[0-9.]+) s: process (?<process>[0-9.]+) s, journal (?<journal>[0-9.]+) s, checkpoint and ranks (?<ranks>[0-9.]+) s\)");
        Assert.True(line.Success, resumed.Error);
        double Part(string name) => double.Parse(line.Groups[name].Value, CultureInfo.InvariantCulture);
        // The journal held the killed run's events and the checkpoint was read: neither took no time at all.
        Assert.True(Part("journal") > 0, line.Value);
        Assert.True(Part("ranks") > 0, line.Value);
        Assert.InRange(Part("process") + Part("journal") + Part("ranks"), Part("up") - 0.03, Part("up") + 0.03);
    }
}
