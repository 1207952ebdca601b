using Orchestrator.Trainer.Checkpointing;
using Orchestrator.Trainer.Metrics;
using Orchestrator.Trainer.Runtime;
using Orchestrator.Trainer.Training;

namespace Orchestrator.Trainer.Tests.Metrics;

/// <summary>A TensorBoard log that cannot be written warns once and never throws into training.</summary>
public sealed class TensorBoardGuardTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void A_log_that_cannot_be_created_warns_once_and_every_later_call_does_nothing()
    {
        // A file where the tensorboard folder should be: creating the folder fails with an IOException.
        File.WriteAllText(_temp.Sub(TensorBoardLog.Folder), "in the way");
        var warnings = new List<string>();

        using (var guard = new TensorBoardGuard(_temp.Path, 0, warnings.Add))
        {
            guard.Stepped(new StepReport(1, 10, 0, 0.5, 0.1, 100, 32));
            guard.Saved(new SaveReport("iter_1", 1, "schedule", 10, TimeSpan.Zero, TimeSpan.Zero, [], false, "digest"));
            guard.Restarted(1, 1);
            Assert.False(guard.IsLogging);
        }

        var warning = Assert.Single(warnings);
        Assert.StartsWith("warning: TensorBoard logging stopped (", warning);
        Assert.EndsWith("); training goes on without it", warning);
    }

    [Fact]
    public void A_sound_log_writes_and_warns_nothing()
    {
        var warnings = new List<string>();
        using (var guard = new TensorBoardGuard(_temp.Path, 0, warnings.Add))
        {
            guard.Stepped(new StepReport(1, 10, 0, 0.5, 0.1, 100, 32));
            Assert.True(guard.IsLogging);
        }

        Assert.Empty(warnings);
        Assert.Contains(TensorBoardFiles.ReadAll(TensorBoardLog.DirectoryIn(_temp.Path)), e => e.Summary?.Value.Any(v => v.Tag == TensorBoardLog.LossTag) == true);
    }

    [Fact]
    public void A_full_disk_is_recognised_in_the_exception_or_inside_it()
    {
        var full = new IOException("No space left on device", 28); // how .NET reports ENOSPC on Unix
        Assert.True(DiskFull.Is(full));
        Assert.True(DiskFull.Is(new AggregateException(new InvalidOperationException("wrapped", full))));
        Assert.False(DiskFull.Is(new IOException("Permission denied", 13)));
        Assert.Equal("no space left on /w (checkpoints up to iter_20 are intact; free space and rerun)", DiskFull.Message("/w", "iter_20"));
    }
}
