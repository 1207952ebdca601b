using System.Runtime.InteropServices;
using Orchestrator.Trainer.Checkpointing;
using Orchestrator.Trainer.Data;
using Orchestrator.Trainer.Jobs;
using Orchestrator.Trainer.Tensors;
using Orchestrator.Trainer.Tests.Support;
using Orchestrator.Trainer.Training;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Tests.Checkpointing;

/// <summary>
/// A capture copies parameters and optimizer state on a background thread while the next forward and
/// backward pass run. These tests hold that copy at a gate and check that whatever changes those tensors
/// waits for it, and that the host arrays reused between saves carry nothing of one save into the next.
/// </summary>
public sealed class DeferredCaptureTests : IDisposable
{
    private readonly TempDirectory _temp = new();
    private readonly GatedCheckpointable _gate = new();

    public void Dispose()
    {
        _gate.Open();
        _gate.Dispose();
        _temp.Dispose();
    }

    [Fact]
    public async Task An_optimizer_step_during_the_copy_waits_and_the_snapshot_holds_the_values_before_it()
    {
        using var job = Runs.Job()();
        var checkpointer = GatedFirst(job);
        Step(job);
        var expected = CaptureNow(job);
        _gate.Close();

        var pending = checkpointer.Capture(Info(1));
        _gate.WaitUntilReached();
        var step = Task.Run(() =>
        {
            Forward(job); // reads the parameters: allowed while they are being copied
            checkpointer.WaitForCapture();
            job.Optimizer.step();
        });
        Assert.False(await Fence.Passed(step), "the optimizer step did not wait for the snapshot's copy");
        _gate.Open();
        await step;

        AssertSame(expected, pending.Complete());
        Assert.NotEqual(Bytes(expected["model"]), Bytes(CaptureNow(job)["model"]));
    }

    [Fact]
    public async Task A_step_of_the_training_state_waits_at_the_fence()
    {
        using var job = WithExtra(Runs.Job()(), _gate);
        var state = new TrainingState(job, 3, ModelLoadOptions.Default);
        var (_, samples) = state.ComputeGradients();
        state.ApplyStep(samples);
        _gate.Close();

        var pending = state.Capture("schedule", 1);
        _gate.WaitUntilReached();
        var (_, next) = state.ComputeGradients();
        var step = Task.Run(() => state.ApplyStep(next));
        Assert.False(await Fence.Passed(step), "ApplyStep did not wait for the snapshot's copy");
        _gate.Open();
        await step;

        Assert.Equal(1, pending.Complete().Info.Iteration);
        Assert.Equal(2, state.Counters.Iteration);
    }

    [Fact]
    public async Task A_restore_during_the_copy_waits_and_the_snapshot_is_not_torn()
    {
        using var job = Runs.Job()();
        var checkpointer = GatedFirst(job);
        Step(job);
        var store = new CheckpointStore(_temp.Path, new CheckpointNaming());
        store.Commit(checkpointer.Capture(Info(1)).Complete());
        Step(job);
        var expected = CaptureNow(job);
        _gate.Close();

        var pending = checkpointer.Capture(Info(2));
        _gate.WaitUntilReached();
        var restore = Task.Run(() => checkpointer.Restore(store.Load(store.List()[0].Path)));
        Assert.False(await Fence.Passed(restore), "the restore did not wait for the snapshot's copy");
        _gate.Open();
        await restore;

        AssertSame(expected, pending.Complete());
    }

    [Fact]
    public async Task The_writer_writes_the_components_already_copied_while_a_later_one_is_still_being_copied()
    {
        using var job = Runs.Job()();
        var checkpointer = new CheckpointComponents();
        checkpointer.Add(ModelCheckpointable.ComponentName, new ModelCheckpointable(job.Model, ModelLoadOptions.Default));
        checkpointer.Add(ComponentNames.Optimizer, new OptimizerCheckpointable(job.Optimizer, CPU));
        checkpointer.Add("tail", _gate); // copied last
        Step(job);
        var expected = CaptureNow(job);
        var store = new CheckpointStore(_temp.Path, new CheckpointNaming());
        _gate.Close();

        var pending = checkpointer.Capture(Info(1));
        _gate.WaitUntilReached();
        var commit = Task.Run(() => store.Commit(pending));
        string[] Written() => Directory.GetDirectories(store.Directory, ".tmp-*").SelectMany(Directory.GetFiles).Select(Path.GetFileName).OfType<string>().ToArray();
        Assert.True(SpinWait.SpinUntil(() => Written().Contains("optimizer.bin"), TimeSpan.FromSeconds(30)), "the optimizer's file was not written while the last copy waited");
        Assert.Contains(CheckpointFormat.ModelWeightsFile, Written());
        Assert.False(commit.IsCompleted, "the commit finished before its last component was copied");
        _gate.Open();
        var result = await commit;

        var loaded = store.Load(result.Path);
        AssertSame(expected, new CheckpointSnapshot(loaded.Info, loaded.Components));
        Assert.True(loaded.Components.ContainsKey("tail"));
    }

    [Fact]
    public void Host_arrays_are_reused_only_after_release_and_carry_nothing_of_the_save_before()
    {
        using var job = Runs.Job()();
        var state = new TrainingState(job, 3, ModelLoadOptions.Default);
        Step(state);
        var first = state.Capture("schedule", 1);
        var firstSnapshot = first.Complete();
        var firstCopy = Contents(firstSnapshot);

        Step(state);
        var second = state.Capture("schedule", 1);
        var secondSnapshot = second.Complete();
        Assert.Empty(Arrays(firstSnapshot).Intersect(Arrays(secondSnapshot), ReferenceEqualityComparer.Instance));
        Assert.Equal(firstCopy, Contents(firstSnapshot));

        first.Release();
        second.Release();
        Step(state);
        var expected = CaptureNow(job);
        var third = state.Capture("schedule", 1).Complete();

        var reused = Arrays(third).Intersect(Arrays(secondSnapshot), ReferenceEqualityComparer.Instance).Count();
        Assert.Equal(Arrays(third).Count, reused + BufferCount(job)); // every parameter and the optimizer blob reused
        AssertSame(expected, third);
    }

    [Fact]
    public void The_background_capture_writes_exactly_what_a_synchronous_one_writes()
    {
        using var job = Runs.Job()();
        var state = new TrainingState(job, 3, ModelLoadOptions.Default);
        Step(state);
        Step(state);

        var snapshot = state.Capture("schedule", 1).Complete();

        AssertSame(CaptureNow(job), snapshot);
    }

    [Fact]
    public void The_weights_digest_computed_beside_the_write_is_of_the_captured_weights()
    {
        using var job = Runs.Job()();
        var state = new TrainingState(job, 3, ModelLoadOptions.Default);
        Step(state);
        var before = WeightsDigest.Of(job.Model);

        var snapshot = state.Capture("schedule", 1).Complete();
        Step(state); // passes the fence; the parameters change while the digest may still be running
        var store = new CheckpointStore(_temp.Path, new CheckpointNaming());
        var committed = store.Commit(snapshot);

        Assert.NotNull(snapshot.WeightsDigestInFlight);
        Assert.Equal(before, committed.WeightsSha256);
        Assert.Equal(before, store.Load(committed.Path).Info.WeightsSha256);
        Assert.NotEqual(before, WeightsDigest.Of(job.Model));
    }

    private CheckpointComponents GatedFirst(TrainingJob job)
    {
        var checkpointer = new CheckpointComponents();
        checkpointer.Add("gate", _gate);
        checkpointer.Add(ModelCheckpointable.ComponentName, new ModelCheckpointable(job.Model, ModelLoadOptions.Default));
        checkpointer.Add(ComponentNames.Optimizer, new OptimizerCheckpointable(job.Optimizer, CPU));
        return checkpointer;
    }

    private static TrainingJob WithExtra(TrainingJob job, ICheckpointable extra) => new()
    {
        Name = job.Name,
        Model = job.Model,
        Optimizer = job.Optimizer,
        Data = job.Data,
        Loss = job.Loss,
        LearningRate = job.LearningRate,
        ExtraCheckpointables = new Dictionary<string, ICheckpointable> { ["gate"] = extra },
    };

    /// <summary>The synchronous capture of model and optimizer: TorchSharp's own state-dict writer.</summary>
    private static Dictionary<string, ComponentState> CaptureNow(TrainingJob job) => new()
    {
        ["model"] = new ModelCheckpointable(job.Model, ModelLoadOptions.Default).Capture(),
        ["optimizer"] = new OptimizerCheckpointable(job.Optimizer, CPU).Capture(),
    };

    private static void AssertSame(Dictionary<string, ComponentState> expected, CheckpointSnapshot actual)
    {
        foreach (var (name, state) in expected)
        {
            Assert.Equal(state.Tensors.Select(t => t.Key), actual.Components[name].Tensors.Select(t => t.Key));
            Assert.Equal(Bytes(state), Bytes(actual.Components[name]));
        }
    }

    private static byte[] Bytes(ComponentState state) =>
        [.. state.Tensors.SelectMany(t => t.Value.Bytes.ToArray()), .. state.Blob ?? []];

    // The arrays themselves, to tell a reused one from a copy.
    private static List<byte[]> Arrays(CheckpointSnapshot snapshot) =>
        [.. snapshot.Components.Values.SelectMany(c => c.Tensors.Select(t => ArrayOf(t.Value.Bytes))), .. snapshot.Components.Values.Select(c => c.Blob).OfType<byte[]>()];

    private static byte[] ArrayOf(ReadOnlyMemory<byte> bytes) =>
        MemoryMarshal.TryGetArray(bytes, out var segment) && segment.Offset == 0 && segment.Count == segment.Array!.Length
            ? segment.Array
            : throw new InvalidOperationException("a copied tensor's bytes are a whole array of their own");

    private static List<byte[]> Contents(CheckpointSnapshot snapshot) => Arrays(snapshot).Select(a => a.ToArray()).ToList();

    // Arrays copied on the training thread (buffers, the generator state) are not pooled.
    private static int BufferCount(TrainingJob job) => job.Model.named_buffers().Count() + 1;

    private static void Step(TrainingJob job)
    {
        Forward(job);
        job.Optimizer.step();
    }

    private static void Step(TrainingState state)
    {
        var (_, samples) = state.ComputeGradients();
        state.ApplyStep(samples);
    }

    private static void Forward(TrainingJob job)
    {
        using var scope = NewDisposeScope();
        using var batch = job.Data.Read(DataCursor.Start(3));
        job.Optimizer.zero_grad();
        job.Loss(batch).backward();
    }

    private static CheckpointInfo Info(long iteration) => new("mlp", iteration, 0, 0, "", "schedule", DateTimeOffset.UnixEpoch, 1);
}
