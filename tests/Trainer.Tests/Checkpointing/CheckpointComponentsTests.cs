using Orchestrator.Trainer.Checkpointing;
using Orchestrator.Trainer.Tests.Support;

namespace Orchestrator.Trainer.Tests.Checkpointing;

public sealed class CheckpointComponentsTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void User_components_added_by_name_round_trip_and_a_subset_load_reports_what_it_left()
    {
        var notes = new List<string> { "warmup done" };
        var counter = 41;
        var checkpointer = new CheckpointComponents();
        checkpointer.Add("notes", new JsonCheckpointable<List<string>>(() => notes, v => notes = v));
        checkpointer.Add("counter", new JsonCheckpointable<int>(() => counter, v => counter = v));
        var store = new CheckpointStore(_temp.Path, new CheckpointNaming());
        store.Commit(checkpointer.Capture(new CheckpointInfo("t", 1, 0, 0, "", "forced", DateTimeOffset.UnixEpoch, 1)).Complete());
        notes = [];
        counter = 0;

        var report = checkpointer.Restore(store.Load(store.List()[0].Path), new HashSet<string> { "counter" });

        Assert.Equal(41, counter);
        Assert.Empty(notes);
        Assert.Equal(["counter"], report.Restored);
        Assert.Equal(["notes"], report.Unconsumed);
        Assert.Empty(report.Missing);
    }

    [Fact]
    public void A_component_absent_from_the_checkpoint_is_reported_missing()
    {
        var first = new CheckpointComponents();
        first.Add("a", new JsonCheckpointable<int>(() => 1, _ => { }));
        var store = new CheckpointStore(_temp.Path, new CheckpointNaming());
        store.Commit(first.Capture(new CheckpointInfo("t", 1, 0, 0, "", "forced", DateTimeOffset.UnixEpoch, 1)).Complete());
        var second = new CheckpointComponents();
        second.Add("a", new JsonCheckpointable<int>(() => 1, _ => { }));
        second.Add("b", new JsonCheckpointable<int>(() => 2, _ => { }));

        var report = second.Restore(store.Load(store.List()[0].Path));

        Assert.Equal(["b"], report.Missing);
    }

    [Theory]
    [InlineData("")]
    [InlineData("a.b")]
    [InlineData("x/y")]
    public void Bad_component_names_are_refused(string name) =>
        Assert.Throws<ArgumentException>(() => new CheckpointComponents().Add(name, new JsonCheckpointable<int>(() => 0, _ => { })));

    [Fact]
    public void The_same_name_cannot_be_added_twice()
    {
        var checkpointer = new CheckpointComponents();
        checkpointer.Add("x", new JsonCheckpointable<int>(() => 0, _ => { }));

        Assert.Throws<ArgumentException>(() => checkpointer.Add("x", new JsonCheckpointable<int>(() => 0, _ => { })));
    }
}
