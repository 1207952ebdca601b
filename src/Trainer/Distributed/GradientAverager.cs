using System.Numerics;
using System.Runtime.InteropServices;

namespace Orchestrator.Trainer.Distributed;

/// <summary>
/// Averages the ranks' flattened gradients element by element, always summing in rank order, so the result
/// does not depend on which rank answered first and every replica applies exactly the same update.
/// </summary>
public static class GradientAverager
{
    public static float[] Average(IReadOnlyList<float[]> byRank)
    {
        if (byRank.Count == 0)
        {
            throw new ArgumentException("no gradients to average");
        }
        var result = new float[byRank[0].Length];
        AverageInto(result, byRank.Select(values => new ArraySegment<float>(values)).ToList());
        return result;
    }

    /// <summary>
    /// Writes the average of <paramref name="byRank"/> into <paramref name="destination"/> without allocating.
    /// Each element is ((g0 + g1) + ...) / ranks, the same operations in the same order as element by element,
    /// so vector lanes give bit-identical results.
    /// </summary>
    public static void AverageInto(Span<float> destination, IReadOnlyList<ArraySegment<float>> byRank)
    {
        if (byRank.Count == 0)
        {
            throw new ArgumentException("no gradients to average");
        }
        for (var rank = 0; rank < byRank.Count; rank++) // no enumerator: the step path allocates nothing
        {
            if (byRank[rank].Count != destination.Length)
            {
                throw new ArgumentException("ranks sent gradients of different sizes; their models differ");
            }
        }
        byRank[0].AsSpan().CopyTo(destination);
        for (var rank = 1; rank < byRank.Count; rank++)
        {
            Add(destination, byRank[rank]);
        }
        if (byRank.Count > 1)
        {
            Divide(destination, byRank.Count);
        }
    }

    private static void Add(Span<float> sum, ReadOnlySpan<float> values)
    {
        var sumVectors = MemoryMarshal.Cast<float, Vector<float>>(sum);
        var valueVectors = MemoryMarshal.Cast<float, Vector<float>>(values);
        for (var i = 0; i < sumVectors.Length; i++)
        {
            sumVectors[i] += valueVectors[i];
        }
        for (var i = sumVectors.Length * Vector<float>.Count; i < sum.Length; i++)
        {
            sum[i] += values[i];
        }
    }

    private static void Divide(Span<float> sum, float count)
    {
        var vectors = MemoryMarshal.Cast<float, Vector<float>>(sum);
        var divisor = new Vector<float>(count);
        for (var i = 0; i < vectors.Length; i++)
        {
            vectors[i] /= divisor;
        }
        for (var i = vectors.Length * Vector<float>.Count; i < sum.Length; i++)
        {
            sum[i] /= count;
        }
    }
}
