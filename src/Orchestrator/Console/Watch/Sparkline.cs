namespace Orchestrator.Cli.Console.Watch;

/// <summary>A series drawn as one line of block characters, lowest value ▁, highest █ (the loss in the live view).</summary>
internal static class Sparkline
{
    private const string Levels = "▁▂▃▄▅▆▇█";

    /// <summary>
    /// The last <paramref name="width"/> values, scaled between their own minimum and maximum, so the shape
    /// shows even when the loss has flattened. Not-a-number and infinite values (a diverged step) are shown
    /// as '×' and left out of the scale; a flat series is drawn at mid height.
    /// </summary>
    public static string Of(IReadOnlyList<double> values, int width)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(width);
        var shown = values.Skip(Math.Max(0, values.Count - width)).ToArray();
        var finite = shown.Where(double.IsFinite).ToArray();
        if (finite.Length == 0)
        {
            return new string('×', shown.Length);
        }
        var (low, high) = (finite.Min(), finite.Max());
        var top = Levels.Length - 1;
        return string.Concat(shown.Select(v =>
            !double.IsFinite(v) ? '×'
            : high == low ? Levels[top / 2]
            : Levels[(int)Math.Round((v - low) / (high - low) * top)]));
    }
}
