using System.Text.Json.Nodes;
using Orchestrator.Actors.Job;
using Orchestrator.Actors.Job.Checkpoints;
using Orchestrator.Trainer.Checkpointing;

namespace Orchestrator.Actors.Tests.Job;

/// <summary>
/// Where the supervisor (re)starts after a rank refused a checkpoint on restore: the next older valid one, then
/// fresh; a refused checkpoint is never chosen again in the run, and one the user named is never replaced.
/// </summary>
public sealed class ResumeCandidatesTests : IDisposable
{
    private readonly TempDirectory _temp = new();
    private readonly CheckpointStore _store;

    public ResumeCandidatesTests()
    {
        _store = new CheckpointStore(_temp.Sub("checkpoints"), new CheckpointNaming());
        foreach (var iteration in new[] { 10L, 20L })
        {
            var counters = ComponentState.FromJson(new JsonObject { ["iteration"] = iteration });
            _store.Commit(new CheckpointSnapshot(new CheckpointInfo("mlp", iteration, 0, 0, "", "schedule", DateTimeOffset.UnixEpoch, 1),
                new Dictionary<string, ComponentState> { ["counters"] = counters }));
        }
    }

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void A_refused_checkpoint_gives_way_to_the_one_before_then_to_a_fresh_start()
    {
        var candidates = new ResumeCandidates(_store, namedByUser: null);
        var newest = candidates.Latest().Checkpoint!;

        var (first, older) = candidates.Refuse(newest.Path, "iter_20: optimizer.bin holds 8 bytes past the end of the optimizer's state (crafted or corrupt, refused)");
        var (second, none) = candidates.Refuse(older!.Path, "iter_10: refused");

        Assert.Equal("iter_20", newest.Name);
        Assert.True(candidates.ChoseItself(newest.Path));
        Assert.Equal(["iter_20: optimizer.bin holds 8 bytes past the end of the optimizer's state (crafted or corrupt, refused); resuming from iter_10 instead"], first);
        Assert.Equal("iter_10", older.Name);
        Assert.Equal(["iter_10: refused; no older valid checkpoint, starting fresh"], second);
        Assert.Null(none);
        Assert.Null(candidates.Latest().Checkpoint);
    }

    [Fact]
    public void A_checkpoint_named_by_the_user_is_not_replaced()
    {
        var named = Path.Combine(_store.Directory, "iter_20");
        var candidates = new ResumeCandidates(_store, named + "/");

        Assert.False(candidates.ChoseItself(named));
        Assert.True(candidates.ChoseItself(Path.Combine(_store.Directory, "iter_10")));
    }
}
