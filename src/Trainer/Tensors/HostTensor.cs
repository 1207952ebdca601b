using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Tensors;

/// <summary>
/// A tensor's value copied into managed host memory: what a snapshot holds while the background writer
/// works, so training can go on mutating the live tensors.
/// </summary>
public sealed record HostTensor(ScalarType DType, long[] Shape, byte[] Bytes)
{
    public static HostTensor Copy(Tensor tensor)
    {
        using var scope = NewDisposeScope();
        var host = tensor.device_type == DeviceType.CPU ? tensor.detach() : tensor.detach().cpu();
        var contiguous = host.contiguous();
        return new HostTensor(contiguous.dtype, contiguous.shape, contiguous.bytes.ToArray());
    }

    /// <summary>A new CPU tensor holding these bytes; the caller owns it.</summary>
    public Tensor ToTensor()
    {
        var tensor = empty(Shape, DType, CPU);
        Bytes.CopyTo(tensor.bytes);
        return tensor;
    }

    public string ShapeText => "[" + string.Join(", ", Shape) + "]";
}
