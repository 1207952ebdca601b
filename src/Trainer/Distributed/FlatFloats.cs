using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Distributed;

/// <summary>
/// Moves the values of a list of float32 tensors (gradients, buffers) into one flat array and back: the form
/// in which they travel between ranks and are averaged.
/// </summary>
internal static class FlatFloats
{
    /// <summary>
    /// Concatenates what <paramref name="select"/> gives for each tensor; null stands for zeros. Writes into
    /// <paramref name="reuse"/> when it has the right length, so a step's gradients need no new array.
    /// </summary>
    public static float[] Gather(IReadOnlyList<Tensor> tensors, Func<Tensor, Tensor?> select, float[]? reuse = null)
    {
        var length = tensors.Sum(t => t.numel());
        var flat = reuse?.Length == length ? reuse : new float[length];
        var offset = 0;
        foreach (var tensor in tensors)
        {
            var count = (int)tensor.numel();
            if (select(tensor) is { } source)
            {
                using var host = source.detach().cpu().contiguous();
                MemoryMarshal.Cast<byte, float>(host.bytes).CopyTo(flat.AsSpan(offset, count));
            }
            else
            {
                flat.AsSpan(offset, count).Clear();
            }
            offset += count;
        }
        return flat;
    }

    /// <summary>
    /// Writes each tensor's slice of <paramref name="values"/> into the tensor <paramref name="target"/> picks:
    /// straight into its memory when that is a contiguous float32 CPU tensor (no temporary tensor, one copy),
    /// otherwise as a CPU tensor of its shape handed to <paramref name="fallback"/>.
    /// </summary>
    public static void Scatter(ReadOnlySpan<float> values, IReadOnlyList<Tensor> tensors, Func<Tensor, Tensor?> target, Action<Tensor, Tensor> fallback)
    {
        var offset = 0;
        using var noGrad = no_grad();
        foreach (var tensor in tensors)
        {
            var count = (int)tensor.numel();
            var slice = MemoryMarshal.AsBytes(values.Slice(offset, count));
            if (target(tensor) is { } destination && destination.device_type == TorchSharp.DeviceType.CPU && destination.dtype == ScalarType.Float32
                && destination.is_contiguous() && destination.numel() == count)
            {
                slice.CopyTo(destination.bytes);
            }
            else
            {
                using var host = empty(tensor.shape, ScalarType.Float32, CPU);
                slice.CopyTo(host.bytes);
                fallback(tensor, host);
            }
            offset += count;
        }
    }
}
