using Orchestrator.Trainer.Tensors;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Data;

/// <summary>The element type and shape of one tensor of a record, e.g. float32 [3, 32, 32]; [] is a scalar.</summary>
public sealed class TensorLayout
{
    public TensorLayout(ScalarType dtype, params long[] shape)
    {
        if (shape.Any(d => d <= 0))
        {
            throw new ArgumentOutOfRangeException(nameof(shape), $"shape [{string.Join(", ", shape)}] has a dimension that is not positive");
        }
        DType = dtype;
        Shape = [.. shape];
        Bytes = checked(shape.Aggregate(1L, (product, d) => product * d) * TensorFile.ElementSize(dtype));
    }

    public ScalarType DType { get; }

    public IReadOnlyList<long> Shape { get; }

    /// <summary>Bytes of one such tensor in a record.</summary>
    public long Bytes { get; }

    public override string ToString() => $"{DType.ToString().ToLowerInvariant()}[{string.Join(", ", Shape)}]";
}

/// <summary>
/// One record of a fixed-record file: the input tensor's bytes, then the target tensor's, each C-contiguous
/// and little-endian (the in-memory layout of a CPU tensor on every platform TorchSharp ships for).
/// </summary>
public sealed class RecordLayout(TensorLayout input, TensorLayout target)
{
    public TensorLayout Input { get; } = input;

    public TensorLayout Target { get; } = target;

    public long RecordBytes => checked(Input.Bytes + Target.Bytes);

    public override string ToString() => $"input {Input} + target {Target}";
}
