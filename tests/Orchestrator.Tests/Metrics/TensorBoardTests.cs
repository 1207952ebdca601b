using Orchestrator.Tests.Support;
using Orchestrator.Trainer.Metrics;

namespace Orchestrator.Tests.Metrics;

/// <summary>TensorBoard event files written by train, read back: every step once, even across a kill -9.</summary>
public sealed class TensorBoardTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void A_run_killed_and_resumed_logs_every_step_once_with_the_uninterrupted_values()
    {
        var straightDir = _temp.Sub("straight");
        var killedDir = _temp.Sub("killed");
        CliProcess.Run(CliProcess.Train("mlp", straightDir, 30));
        string[] command = [.. CliProcess.Train("mlp", killedDir, 30, more: ["--inject-fault", "kill-process@step=27"])];

        Assert.Equal(137, CliProcess.Run(command).ExitCode);
        Assert.Equal(0, CliProcess.Run(command).ExitCode);

        var straight = Scalars(straightDir, "train/loss");
        var resumed = Scalars(killedDir, "train/loss");
        Assert.Equal(Enumerable.Range(1, 30).Select(i => (long)i), resumed.Select(s => s.Step));
        Assert.Equal(straight, resumed);
        Assert.All(Scalars(killedDir, "train/samples_per_second"), s => Assert.True(s.Value > 0));
        // A checkpoint committed just before the kill can lose its stall figure (the report dies with the
        // process); what is there is each checkpoint at most once, and the final one.
        var checkpoints = Scalars(killedDir, "checkpoint/stall_ms").Select(s => s.Step).ToList();
        Assert.Equal(checkpoints.Distinct(), checkpoints);
        Assert.Subset(new HashSet<long> { 10, 20, 30 }, checkpoints.ToHashSet());
        Assert.Contains(30L, checkpoints);
        Assert.Equal(2, Directory.GetFiles(TensorBoardLog.DirectoryIn(killedDir), TensorBoardFiles.FilePattern).Length);
    }

    [Fact]
    public void Restarts_after_injected_crashes_are_logged_and_redone_steps_are_not_duplicated()
    {
        var dir = _temp.Sub("crashes");

        var result = CliProcess.Run(CliProcess.Train("cnn", dir, 30, more: ["--ranks", "2", "--inject-fault", "crash@step=15,rank=1", "--restart-backoff", "20"]));

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(Enumerable.Range(1, 30).Select(i => (long)i), Scalars(dir, "train/loss").Select(s => s.Step));
        Assert.Equal([(10L, 1f)], Scalars(dir, "job/restarts"));
    }

    private static List<(long Step, float Value)> Scalars(string workDir, string tag) =>
        TensorBoardFiles.ReadAll(TensorBoardLog.DirectoryIn(workDir))
            .Where(e => e.Summary is not null)
            .SelectMany(e => e.Summary.Value.Where(v => v.Tag == tag).Select(v => (e.Step, v.SimpleValue)))
            .OrderBy(s => s.Step)
            .ToList();
}
