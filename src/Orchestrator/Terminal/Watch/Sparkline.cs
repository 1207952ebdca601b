namespace Orchestrator.Cli.Terminal.Watch;

/// <summary>A series drawn as one line of block characters, lowest value ▁, highest █ (the loss in the live view).</summary>
internal static class Sparkline
{
    private const string Levels = "▁▂▃▄▅▆▇█";

    /// <summary>
    /// At most <paramref name="width"/> characters: a longer series is averaged in equal runs, so the line
    /// shows the trend over many steps rather than one batch's noise against the next. The line is scaled
    /// between its own minimum and maximum, so the shape shows even when the loss has flattened.
    /// Not-a-number and infinite values (a diverged step) are left out of the averages; a run of nothing else
    /// is drawn as '×'. A flat series is drawn at mid height.
    /// </summary>
    public static string Of(IReadOnlyList<double> values, int width)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(width);
        var points = Averaged(values, width);
        var finite = points.Where(double.IsFinite).ToArray();
        if (finite.Length == 0)
        {
            return new string('×', points.Length);
        }
        var (low, high) = (finite.Min(), finite.Max());
        var top = Levels.Length - 1;
        return string.Concat(points.Select(v =>
            !double.IsFinite(v) ? '×'
            : high == low ? Levels[top / 2]
            : Levels[(int)Math.Round((v - low) / (high - low) * top)]));
    }

    private static double[] Averaged(IReadOnlyList<double> values, int width)
    {
        if (values.Count <= width)
        {
            return [.. values];
        }
        return [.. Enumerable.Range(0, width).Select(i =>
        {
            var run = Enumerable.Range(i * values.Count / width, (i + 1) * values.Count / width - i * values.Count / width)
                .Select(j => values[j]).Where(double.IsFinite).ToArray();
            return run.Length > 0 ? run.Average() : double.NaN;
        })];
    }
}
