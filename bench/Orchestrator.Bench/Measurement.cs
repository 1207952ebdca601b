using System.Diagnostics;

namespace Orchestrator.Bench;

/// <summary>Repeated timings of one thing: median with min and max beside it.</summary>
internal sealed record Measurement(IReadOnlyList<double> Samples)
{
    public double Median
    {
        get
        {
            var sorted = Samples.Order().ToArray();
            return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
        }
    }

    public double Min => Samples.Min();

    public double Max => Samples.Max();

    public static Measurement Repeat(int times, Func<double> sample) =>
        new(Enumerable.Range(0, times).Select(_ => sample()).ToList());

    public static double Seconds(Action work)
    {
        var clock = Stopwatch.StartNew();
        work();
        return clock.Elapsed.TotalSeconds;
    }
}

/// <summary>One row of the report: a measured value, the baseline it is compared to, and their ratio.</summary>
/// <remarks>Rows with no natural baseline (recovery times) leave it null and have no ratio.</remarks>
internal sealed record Row(string Name, string Unit, Measurement Value, Measurement? Baseline, string BaselineName, double? Goal, bool HigherIsBetter, string Limit)
{
    public double? Ratio => Baseline is null ? null : Value.Median / Baseline.Median;

    public bool? MeetsGoal => Goal is { } goal && Ratio is { } ratio ? HigherIsBetter ? ratio >= goal : ratio <= goal : null;
}
