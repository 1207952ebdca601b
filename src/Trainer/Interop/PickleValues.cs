using static TorchSharp.torch;

namespace Orchestrator.Trainer.Interop;

/// <summary>A dict (or <c>collections.OrderedDict</c>) from a pickle, its items in the order they were set.</summary>
internal sealed class PickleDict
{
    private readonly Dictionary<string, int> _stringKeys = new(StringComparer.Ordinal);

    public List<KeyValuePair<object?, object?>> Items { get; } = [];

    /// <summary>Sets a key as Python does: a string key set twice keeps its first place and its last value.</summary>
    public void Set(object? key, object? value)
    {
        if (key is string name && _stringKeys.TryGetValue(name, out var index))
        {
            Items[index] = KeyValuePair.Create<object?, object?>(key, value);
            return;
        }
        if (key is string added)
        {
            _stringKeys[added] = Items.Count;
        }
        Items.Add(KeyValuePair.Create<object?, object?>(key, value));
    }
}

/// <summary>A tuple from a pickle (lists are <see cref="List{T}"/> of object).</summary>
internal sealed record PickleTuple(object?[] Items);

/// <summary>A class or function a pickle names, allowed only as the few that rebuild tensors and dicts.</summary>
internal sealed record PickleGlobal(string Module, string Name)
{
    public string FullName => $"{Module}.{Name}";
}

/// <summary>A storage a tensor views: the zip entry <c>data/Key</c>, of <paramref name="Count"/> elements.</summary>
internal sealed record StorageRef(string Key, ScalarType DType, long Count);

/// <summary>
/// A tensor as <c>torch._utils._rebuild_tensor_v2</c> would rebuild it: a view of a storage, starting at
/// <paramref name="Offset"/> elements in, with a shape and a stride per dimension (in elements).
/// </summary>
internal sealed record TensorRef(StorageRef Storage, long Offset, long[] Shape, long[] Stride);
