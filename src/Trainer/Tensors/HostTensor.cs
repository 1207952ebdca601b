using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Tensors;

/// <summary>
/// A tensor's value in host memory: what a snapshot holds while the background writer works, so training
/// can go on mutating the live tensors, and what a load reads. Its bytes are a managed array, or, for a
/// snapshot written before its tensors may change (<see cref="View"/>), the live tensor's own memory.
/// </summary>
public sealed record HostTensor(ScalarType DType, long[] Shape, ReadOnlyMemory<byte> Bytes)
{
    public static HostTensor Copy(Tensor tensor)
    {
        using var scope = NewDisposeScope();
        var host = tensor.device_type == DeviceType.CPU ? tensor.detach() : tensor.detach().cpu();
        var contiguous = host.contiguous();
        return new HostTensor(contiguous.dtype, contiguous.shape, contiguous.bytes.ToArray());
    }

    /// <summary>
    /// Takes an array from <paramref name="rent"/> for the tensor's bytes and returns the copy that fills it,
    /// to run later on any thread: a plain memory copy, no torch call, correct only while the tensor stays
    /// alive and unchanged until it has run. A tensor that is not a contiguous CPU tensor is copied now, and
    /// its copy does nothing.
    /// </summary>
    public static (HostTensor Host, Action Copy) CopyLater(Tensor tensor, Func<int, byte[]> rent)
    {
        if (!IsContiguousOnCpu(tensor))
        {
            return (Copy(tensor), static () => { });
        }
        var source = tensor.bytes;
        var length = source.Length;
        var address = AddressOf(source);
        var target = rent(length);
        return (new HostTensor(tensor.dtype, tensor.shape, target), () => Marshal.Copy(address, target, 0, length));
    }

    /// <summary>
    /// The tensor's own bytes, not copied: valid only while the tensor stays alive and unchanged, which the
    /// caller guarantees (a snapshot's fence holds the optimizer step until its write is over). A tensor
    /// that is not a contiguous CPU tensor is copied instead.
    /// </summary>
    public static HostTensor View(Tensor tensor) =>
        IsContiguousOnCpu(tensor) ? new HostTensor(tensor.dtype, tensor.shape, new TensorMemory(tensor).Memory) : Copy(tensor);

    /// <summary>A new CPU tensor holding these bytes; the caller owns it.</summary>
    public Tensor ToTensor()
    {
        var tensor = empty(Shape, DType, CPU);
        Bytes.Span.CopyTo(tensor.bytes);
        return tensor;
    }

    public string ShapeText => "[" + string.Join(", ", Shape) + "]";

    private static bool IsContiguousOnCpu(Tensor tensor) => tensor.device_type == DeviceType.CPU && tensor.is_contiguous();

    internal static unsafe nint AddressOf(Span<byte> span) => (nint)Unsafe.AsPointer(ref MemoryMarshal.GetReference(span));
}
