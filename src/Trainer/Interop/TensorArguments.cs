namespace Orchestrator.Trainer.Interop;

/// <summary>
/// The arguments of <c>torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad,
/// backward_hooks[, metadata])</c>, checked for their types and signs; whether the view fits its storage is
/// checked once the storage's bytes are known (<see cref="TorchZipReader"/>).
/// </summary>
internal static class TensorArguments
{
    public static TensorRef Rebuild(string path, object?[] args)
    {
        if (args is not [StorageRef storage, long offset, PickleTuple size, PickleTuple stride, bool, PickleDict or null, ..] || args.Length > 7)
        {
            throw StateDictRefusal.Of(path, "its pickle rebuilds a tensor with arguments that are not (storage, offset, size, stride, requires_grad, hooks)");
        }
        var shape = Longs(path, size);
        var strides = Longs(path, stride);
        if (offset < 0 || shape.Length != strides.Length)
        {
            throw StateDictRefusal.Of(path, $"its pickle rebuilds a tensor with offset {offset}, {shape.Length} sizes and {strides.Length} strides");
        }
        return new TensorRef(storage, offset, shape, strides);
    }

    private static long[] Longs(string path, PickleTuple tuple) =>
        tuple.Items.All(item => item is long value && value >= 0)
            ? [.. tuple.Items.Cast<long>()]
            : throw StateDictRefusal.Of(path, "its pickle rebuilds a tensor whose sizes or strides are not non-negative integers");
}
