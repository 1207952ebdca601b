using System.Security.Cryptography;
using Orchestrator.Trainer.Tensors;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Tests.Interop;

/// <summary>Compares tensors read here with what PyTorch said it saved, bit for bit.</summary>
internal static class PyTorchTensors
{
    private static readonly Dictionary<string, ScalarType> Names = new(StringComparer.Ordinal)
    {
        ["torch.float64"] = ScalarType.Float64,
        ["torch.float32"] = ScalarType.Float32,
        ["torch.float16"] = ScalarType.Float16,
        ["torch.bfloat16"] = ScalarType.BFloat16,
        ["torch.int64"] = ScalarType.Int64,
        ["torch.int32"] = ScalarType.Int32,
        ["torch.int16"] = ScalarType.Int16,
        ["torch.int8"] = ScalarType.Int8,
        ["torch.uint8"] = ScalarType.Byte,
        ["torch.bool"] = ScalarType.Bool,
    };

    public static void AssertSame(PyTorchStateDicts.Expected expected, string name, HostTensor actual)
    {
        Assert.True(Names[expected.DType] == actual.DType, $"{name}: PyTorch saved {expected.DType}, read {actual.DType}");
        Assert.True(expected.Shape.SequenceEqual(actual.Shape), $"{name}: PyTorch saved [{string.Join(", ", expected.Shape)}], read {actual.ShapeText}");
        Assert.True(expected.Sha256 == Convert.ToHexStringLower(SHA256.HashData(actual.Bytes.Span)), $"{name}: the bytes differ from PyTorch's");
    }
}
