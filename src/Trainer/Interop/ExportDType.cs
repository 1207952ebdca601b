using static TorchSharp.torch;

namespace Orchestrator.Trainer.Interop;

/// <summary>
/// How an element type is named outside TorchSharp: safetensors' dtype string and the PyTorch storage class a
/// pickled state dict names (<c>torch.FloatStorage</c>). Both keep the type exactly; nothing is converted.
/// </summary>
internal static class ExportDType
{
    public static string Safetensors(ScalarType dtype) => dtype switch
    {
        ScalarType.Float32 => "F32",
        ScalarType.Float64 => "F64",
        ScalarType.Float16 => "F16",
        ScalarType.BFloat16 => "BF16",
        ScalarType.Int64 => "I64",
        ScalarType.Int32 => "I32",
        ScalarType.Int16 => "I16",
        ScalarType.Int8 => "I8",
        ScalarType.Byte => "U8",
        ScalarType.Bool => "BOOL",
        ScalarType.ComplexFloat32 => "C64",
        _ => throw new ExportException($"element type {dtype} has no safetensors name; export it with --format pytorch"),
    };

    public static string TorchStorage(ScalarType dtype) => dtype switch
    {
        ScalarType.Float32 => "FloatStorage",
        ScalarType.Float64 => "DoubleStorage",
        ScalarType.Float16 => "HalfStorage",
        ScalarType.BFloat16 => "BFloat16Storage",
        ScalarType.Int64 => "LongStorage",
        ScalarType.Int32 => "IntStorage",
        ScalarType.Int16 => "ShortStorage",
        ScalarType.Int8 => "CharStorage",
        ScalarType.Byte => "ByteStorage",
        ScalarType.Bool => "BoolStorage",
        ScalarType.ComplexFloat32 => "ComplexFloatStorage",
        ScalarType.ComplexFloat64 => "ComplexDoubleStorage",
        _ => throw new ExportException($"element type {dtype} has no PyTorch storage class"),
    };
}
