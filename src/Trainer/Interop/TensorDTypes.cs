using static TorchSharp.torch;

namespace Orchestrator.Trainer.Interop;

/// <summary>
/// The element types a PyTorch state_dict may hold, by the names the two file formats give them: safetensors'
/// dtype strings and the storage classes in a <c>torch.save</c> pickle. Anything else is refused by name.
/// </summary>
internal static class TensorDTypes
{
    private static readonly Dictionary<string, ScalarType> SafetensorsNames = new(StringComparer.Ordinal)
    {
        ["F64"] = ScalarType.Float64,
        ["F32"] = ScalarType.Float32,
        ["F16"] = ScalarType.Float16,
        ["BF16"] = ScalarType.BFloat16,
        ["I64"] = ScalarType.Int64,
        ["I32"] = ScalarType.Int32,
        ["I16"] = ScalarType.Int16,
        ["I8"] = ScalarType.Int8,
        ["U8"] = ScalarType.Byte,
        ["BOOL"] = ScalarType.Bool,
    };

    private static readonly Dictionary<string, ScalarType> StorageNames = new(StringComparer.Ordinal)
    {
        ["DoubleStorage"] = ScalarType.Float64,
        ["FloatStorage"] = ScalarType.Float32,
        ["HalfStorage"] = ScalarType.Float16,
        ["BFloat16Storage"] = ScalarType.BFloat16,
        ["LongStorage"] = ScalarType.Int64,
        ["IntStorage"] = ScalarType.Int32,
        ["ShortStorage"] = ScalarType.Int16,
        ["CharStorage"] = ScalarType.Int8,
        ["ByteStorage"] = ScalarType.Byte,
        ["BoolStorage"] = ScalarType.Bool,
    };

    public static string KnownSafetensorsNames => string.Join(", ", SafetensorsNames.Keys);

    public static bool TryFromSafetensors(string name, out ScalarType type) => SafetensorsNames.TryGetValue(name, out type);

    /// <summary>A <c>torch.XStorage</c> class name (module <c>torch</c>) as its element type.</summary>
    public static bool TryFromStorage(string module, string name, out ScalarType type)
    {
        type = default;
        return module == "torch" && StorageNames.TryGetValue(name, out type);
    }

    public static int ElementSize(ScalarType type) => type switch
    {
        ScalarType.Float64 or ScalarType.Int64 => 8,
        ScalarType.Float32 or ScalarType.Int32 => 4,
        ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Int16 => 2,
        ScalarType.Int8 or ScalarType.Byte or ScalarType.Bool => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "not a state_dict element type"),
    };

    /// <summary>The number of elements of <paramref name="shape"/>, or null when it overflows a long.</summary>
    public static long? ElementCount(IReadOnlyList<long> shape)
    {
        var count = 1L;
        foreach (var size in shape)
        {
            if (size < 0)
            {
                return null;
            }
            try
            {
                count = checked(count * size);
            }
            catch (OverflowException)
            {
                return null;
            }
        }
        return count;
    }
}
