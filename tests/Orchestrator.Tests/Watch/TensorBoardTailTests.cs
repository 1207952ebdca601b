using Orchestrator.Cli.Terminal.Watch;
using Orchestrator.Tests.Support;
using Orchestrator.Trainer.Metrics;

namespace Orchestrator.Tests.Watch;

/// <summary>The watch's reader of a work dir's TensorBoard files, on files a real train wrote.</summary>
public sealed class TensorBoardTailTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void It_reads_the_newest_steps_and_starts_over_when_a_resumed_run_drops_steps_from_a_file()
    {
        var dir = _temp.Sub("run");
        Assert.Equal(0, CliProcess.Run(CliProcess.Train("mlp", dir, 30, more: ["--quiet"])).ExitCode);
        var tail = new TensorBoardTail(TensorBoardLog.DirectoryIn(dir), keepLosses: 8);

        var first = tail.Read();
        var again = tail.Read();
        TensorBoardFiles.DropStepsAfter(TensorBoardLog.DirectoryIn(dir), 20);
        var dropped = tail.Read();

        Assert.Equal(30, first.LastStep);
        Assert.Equal(8, first.RecentLosses.Length);
        Assert.True(first.StepsPerSecond > 0);
        Assert.Equal(first.RecentLosses, again.RecentLosses);
        Assert.Equal(20, dropped.LastStep);
        Assert.Equal(first.RecentLosses.Length, dropped.RecentLosses.Length);
    }
}
