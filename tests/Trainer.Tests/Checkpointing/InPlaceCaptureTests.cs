using System.Runtime.InteropServices;
using Orchestrator.Trainer.Checkpointing;
using Orchestrator.Trainer.Tensors;
using Orchestrator.Trainer.Tests.Support;
using Orchestrator.Trainer.Training;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Tests.Checkpointing;

/// <summary>
/// A save that waits for its write captures in place: the writer reads the parameters where they are
/// instead of a copy, and the fence keeps the optimizer step off them until the snapshot is written.
/// </summary>
public sealed class InPlaceCaptureTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void A_view_is_the_tensor_s_own_memory_and_a_strided_tensor_is_copied()
    {
        using var tensor = arange(6, dtype: float32);
        var view = HostTensor.View(tensor);
        using (no_grad())
        {
            tensor.add_(1);
        }
        Assert.Equal([1f, 2, 3, 4, 5, 6], MemoryMarshal.Cast<byte, float>(view.Bytes.Span).ToArray());
        Assert.False(MemoryMarshal.TryGetArray(view.Bytes, out _));

        using var strided = tensor.reshape(2, 3).t();
        var copied = HostTensor.View(strided);
        Assert.True(MemoryMarshal.TryGetArray(copied.Bytes, out _));
        Assert.Equal([1f, 4, 2, 5, 3, 6], MemoryMarshal.Cast<byte, float>(copied.Bytes.Span).ToArray());
    }

    [Fact]
    public void A_blocking_save_captures_in_place_on_the_caller_s_thread_and_writes_what_a_copied_save_writes()
    {
        using var job = Runs.Job()();
        var state = new TrainingState(job, 3, ModelLoadOptions.Default);
        Step(state);
        var copiedStore = new CheckpointStore(Path.Combine(_temp.Path, "copied"), new CheckpointNaming());
        var copied = copiedStore.Commit(state.Capture("final", 1).Complete());
        var inPlaceStore = new CheckpointStore(Path.Combine(_temp.Path, "in-place"), new CheckpointNaming());
        bool? askedInPlace = null;
        PendingSnapshot? pending = null;
        int? writtenOn = null;

        using (var writer = new AsyncCheckpointWriter(inPlaceStore, _ => [], _ => writtenOn = Environment.CurrentManagedThreadId))
        {
            writer.Save(inPlace =>
            {
                askedInPlace = inPlace;
                pending = state.Capture("final", 1, inPlace);
                return pending;
            }, blocking: true);
        }

        Assert.True(askedInPlace);
        Assert.Equal(Environment.CurrentManagedThreadId, writtenOn);
        var weights = pending!.Complete().Components[ModelCheckpointable.ComponentName].Tensors;
        Assert.All(weights.Where(w => w.Key.EndsWith("weight", StringComparison.Ordinal)), w => Assert.False(MemoryMarshal.TryGetArray(w.Value.Bytes, out _)));
        foreach (var file in new[] { CheckpointFormat.ModelWeightsFile, "optimizer.bin" })
        {
            Assert.Equal(File.ReadAllBytes(Path.Combine(copied.Path, file)), File.ReadAllBytes(Path.Combine(inPlaceStore.List()[0].Path, file)));
        }
        Assert.Equal(copied.WeightsSha256, inPlaceStore.Load(inPlaceStore.List()[0].Path).Info.WeightsSha256);
    }

    [Fact]
    public async Task After_a_capture_in_place_the_optimizer_step_waits_until_the_snapshot_is_written()
    {
        using var job = Runs.Job()();
        var state = new TrainingState(job, 3, ModelLoadOptions.Default);
        Step(state);
        var before = WeightsDigest.Of(job.Model);
        var store = new CheckpointStore(_temp.Path, new CheckpointNaming());

        var pending = state.Capture("final", 1, inPlace: true);
        await pending.WeightsDigest(); // the copier is done: only the write is left
        var (_, samples) = state.ComputeGradients();
        var step = Task.Run(() => state.ApplyStep(samples));
        Assert.False(await Fence.Passed(step), "the optimizer step did not wait for the write of a snapshot captured in place");
        var committed = store.Commit(pending);
        pending.Release();
        await step;

        Assert.Equal(before, committed.WeightsSha256);
        var loaded = store.Load(committed.Path);
        Assert.Equal(before, WeightsDigest.Of(loaded.Components[ModelCheckpointable.ComponentName].Tensors));
        Assert.NotEqual(before, WeightsDigest.Of(job.Model));
    }

    private static void Step(TrainingState state)
    {
        var (_, samples) = state.ComputeGradients();
        state.ApplyStep(samples);
    }
}
