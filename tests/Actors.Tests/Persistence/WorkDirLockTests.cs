using Orchestrator.Actors.Persistence;

namespace Orchestrator.Actors.Tests.Persistence;

// flock locks belong to an open file description, so a second open in the same process contends like
// another process would; the process-level tests (Orchestrator.Tests/Ownership) cover real processes and kill -9.
public sealed class WorkDirLockTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void A_held_work_dir_is_refused_naming_the_owner_and_free_again_once_released()
    {
        var dir = _temp.Sub("work");
        using (var owner = WorkDirLock.TryAcquire(dir, WorkDirLock.ThisProcess("orchestrator train")))
        {
            Assert.NotNull(owner);
            Assert.Null(WorkDirLock.TryAcquire(dir, "someone else"));
            Assert.StartsWith($"orchestrator train (pid {Environment.ProcessId} on host {Environment.MachineName}, since ", WorkDirLock.OwnerOf(dir));
            Assert.Contains($"work dir {dir} is in use by orchestrator train (pid {Environment.ProcessId}", WorkDirLock.Refusal(dir, "train"));
        }
        using var next = WorkDirLock.TryAcquire(dir, "next");
        Assert.NotNull(next);
        Assert.Equal("next", WorkDirLock.OwnerOf(dir));
    }

    [Fact]
    public void The_owner_text_is_printed_without_control_characters()
    {
        var dir = _temp.Sub("work");
        using var owner = WorkDirLock.TryAcquire(dir, "x\u001b[2Jy");

        Assert.Equal("x[2Jy", WorkDirLock.OwnerOf(dir));
    }
}
