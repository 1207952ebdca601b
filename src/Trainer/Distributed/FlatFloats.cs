using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Distributed;

/// <summary>
/// Moves the values of a list of float32 tensors (gradients, buffers) into one flat array and back: the form
/// in which they travel between ranks and are averaged.
/// </summary>
internal static class FlatFloats
{
    /// <summary>Concatenates what <paramref name="select"/> gives for each tensor; null stands for zeros.</summary>
    public static float[] Gather(IReadOnlyList<Tensor> tensors, Func<Tensor, Tensor?> select)
    {
        var flat = new float[tensors.Sum(t => t.numel())];
        var offset = 0;
        foreach (var tensor in tensors)
        {
            var count = (int)tensor.numel();
            if (select(tensor) is { } source)
            {
                using var host = source.detach().cpu().contiguous();
                MemoryMarshal.Cast<byte, float>(host.bytes).CopyTo(flat.AsSpan(offset, count));
            }
            offset += count;
        }
        return flat;
    }

    /// <summary>Gives each tensor its slice of <paramref name="values"/>, as a CPU tensor of its shape, to <paramref name="write"/>.</summary>
    public static void Scatter(ReadOnlySpan<float> values, IReadOnlyList<Tensor> tensors, Action<Tensor, Tensor> write)
    {
        var offset = 0;
        using var noGrad = no_grad();
        foreach (var tensor in tensors)
        {
            var count = (int)tensor.numel();
            using var host = empty(tensor.shape, ScalarType.Float32, CPU);
            MemoryMarshal.AsBytes(values.Slice(offset, count)).CopyTo(host.bytes);
            write(tensor, host);
            offset += count;
        }
    }
}
