using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Distributed;

/// <summary>Which tensor of each listed one a flat copy reads or writes.</summary>
internal enum FlatPart
{
    /// <summary>The tensor's own values (buffers).</summary>
    Values,

    /// <summary>The tensor's gradient (parameters); a missing gradient reads as zeros.</summary>
    Gradients,
}

/// <summary>
/// Moves the values of a list of float32 tensors (gradients, buffers) into one flat array and back: the form
/// in which they travel between ranks and are averaged. Every step of a data-parallel job passes its
/// gradients through here twice, so a CPU float32 tensor is copied straight from or into its memory, and the
/// gradient wrappers TorchSharp makes on each access are freed at once instead of waiting for a finalizer
/// (finalizable objects outlive their first collection, and at two ranks they were most of a step's garbage).
/// </summary>
internal static class FlatFloats
{
    /// <summary>
    /// Concatenates <paramref name="part"/> of each tensor. Writes into <paramref name="reuse"/> when it has the
    /// right length, so a step's gradients need no new array.
    /// </summary>
    public static float[] Gather(IReadOnlyList<Tensor> tensors, FlatPart part, float[]? reuse = null)
    {
        var length = LengthOf(tensors);
        var flat = reuse?.Length == length ? reuse : new float[length];
        var offset = 0;
        for (var i = 0; i < tensors.Count; i++)
        {
            var tensor = tensors[i];
            var count = (int)tensor.numel();
            var into = flat.AsSpan(offset, count);
            var source = part == FlatPart.Gradients ? tensor.grad : tensor;
            try
            {
                if (source is null)
                {
                    into.Clear();
                }
                else if (IsPlainCpuFloat(source, count))
                {
                    MemoryMarshal.Cast<byte, float>(source.bytes).CopyTo(into);
                }
                else
                {
                    using var detached = source.detach();
                    using var onHost = detached.to(ScalarType.Float32, CPU);
                    using var contiguous = onHost.contiguous();
                    MemoryMarshal.Cast<byte, float>(contiguous.bytes).CopyTo(into);
                }
            }
            finally
            {
                if (part == FlatPart.Gradients)
                {
                    source?.Dispose(); // the wrapper only: the parameter keeps its gradient
                }
            }
            offset += count;
        }
        return flat;
    }

    /// <summary>
    /// Writes each tensor's slice of <paramref name="values"/> into its <paramref name="part"/>: straight into
    /// its memory when that is a contiguous float32 CPU tensor (one copy), otherwise through a CPU tensor of its
    /// shape. A parameter without a gradient gets one.
    /// </summary>
    public static void Scatter(ReadOnlySpan<float> values, IReadOnlyList<Tensor> tensors, FlatPart part)
    {
        var offset = 0;
        using var noGrad = no_grad();
        for (var i = 0; i < tensors.Count; i++)
        {
            var tensor = tensors[i];
            var count = (int)tensor.numel();
            var slice = MemoryMarshal.AsBytes(values.Slice(offset, count));
            var destination = part == FlatPart.Gradients ? tensor.grad : tensor;
            try
            {
                if (destination is not null && IsPlainCpuFloat(destination, count))
                {
                    slice.CopyTo(destination.bytes);
                }
                else
                {
                    using var host = empty(tensor.shape, ScalarType.Float32, CPU);
                    slice.CopyTo(host.bytes);
                    if (destination is null)
                    {
                        using var grad = host.to(tensor.device, copy: true);
                        tensor.grad = grad; // the parameter holds its own reference
                    }
                    else
                    {
                        destination.copy_(host);
                    }
                }
            }
            finally
            {
                if (part == FlatPart.Gradients)
                {
                    destination?.Dispose();
                }
            }
            offset += count;
        }
    }

    private static bool IsPlainCpuFloat(Tensor tensor, int count) =>
        tensor.device_type == TorchSharp.DeviceType.CPU && tensor.dtype == ScalarType.Float32 && tensor.is_contiguous() && tensor.numel() == count;

    private static long LengthOf(IReadOnlyList<Tensor> tensors)
    {
        var length = 0L;
        for (var i = 0; i < tensors.Count; i++)
        {
            length += tensors[i].numel();
        }
        return length;
    }
}
