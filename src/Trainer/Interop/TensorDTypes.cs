using static TorchSharp.torch;

namespace Orchestrator.Trainer.Interop;

/// <summary>
/// The element types a PyTorch state_dict may hold, by the names the two file formats give them: safetensors'
/// dtype strings and the storage classes in a <c>torch.save</c> pickle. A read refuses anything else by name;
/// an export writes the same names, so both directions keep the type exactly and convert nothing.
/// </summary>
internal static class TensorDTypes
{
    /// <summary>
    /// Every element type by both names, read and written alike. The complex types are written by an export
    /// (a checkpoint may hold them) but never read from a state_dict (<see cref="Row.Loadable"/>); safetensors
    /// has no name for complex doubles.
    /// </summary>
    private static readonly Row[] Rows =
    [
        new(ScalarType.Float64, "F64", "DoubleStorage"),
        new(ScalarType.Float32, "F32", "FloatStorage"),
        new(ScalarType.Float16, "F16", "HalfStorage"),
        new(ScalarType.BFloat16, "BF16", "BFloat16Storage"),
        new(ScalarType.Int64, "I64", "LongStorage"),
        new(ScalarType.Int32, "I32", "IntStorage"),
        new(ScalarType.Int16, "I16", "ShortStorage"),
        new(ScalarType.Int8, "I8", "CharStorage"),
        new(ScalarType.Byte, "U8", "ByteStorage"),
        new(ScalarType.Bool, "BOOL", "BoolStorage"),
        new(ScalarType.ComplexFloat32, "C64", "ComplexFloatStorage", Loadable: false),
        new(ScalarType.ComplexFloat64, null, "ComplexDoubleStorage", Loadable: false),
    ];

    private static readonly Dictionary<string, ScalarType> SafetensorsNames =
        Rows.Where(row => row.Loadable).ToDictionary(row => row.Safetensors!, row => row.Type, StringComparer.Ordinal);

    private static readonly Dictionary<string, ScalarType> StorageNames =
        Rows.Where(row => row.Loadable).ToDictionary(row => row.Storage, row => row.Type, StringComparer.Ordinal);

    /// <summary>The safetensors dtype string an export writes for <paramref name="type"/>.</summary>
    public static string SafetensorsName(ScalarType type) =>
        RowOf(type)?.Safetensors ?? throw new ExportException($"element type {type} has no safetensors name; export it with --format pytorch");

    /// <summary>The PyTorch storage class (module <c>torch</c>) an export pickles for <paramref name="type"/>.</summary>
    public static string StorageName(ScalarType type) =>
        RowOf(type)?.Storage ?? throw new ExportException($"element type {type} has no PyTorch storage class");

    private static Row? RowOf(ScalarType type) => Array.Find(Rows, row => row.Type == type);

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

    private sealed record Row(ScalarType Type, string? Safetensors, string Storage, bool Loadable = true);
}
