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
        var length = byRank[0].Length;
        if (byRank.Any(g => g.Length != length))
        {
            throw new ArgumentException("ranks sent gradients of different sizes; their models differ");
        }
        var result = (float[])byRank[0].Clone();
        for (var rank = 1; rank < byRank.Count; rank++)
        {
            var g = byRank[rank];
            for (var i = 0; i < length; i++)
            {
                result[i] += g[i];
            }
        }
        if (byRank.Count > 1)
        {
            float count = byRank.Count;
            for (var i = 0; i < length; i++)
            {
                result[i] /= count;
            }
        }
        return result;
    }
}
