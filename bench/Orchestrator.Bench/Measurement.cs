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

    /// <summary>
    /// Samples of a measurement and of its baseline, taken in turn, so that drift in the machine's speed
    /// during the run falls on both alike.
    /// </summary>
    public static (Measurement Value, Measurement Baseline) Alternate(int times, Func<double> value, Func<double> baseline)
    {
        var taken = InTurns(times, baseline, value);
        return (taken[1], taken[0]);
    }

    /// <summary>Samples of each of <paramref name="each"/>, one of each in that order per turn: drift falls on all alike.</summary>
    public static Measurement[] InTurns(int times, params Func<double>[] each)
    {
        var samples = each.Select(_ => new List<double>()).ToArray();
        for (var turn = 0; turn < times; turn++)
        {
            for (var i = 0; i < each.Length; i++)
            {
                samples[i].Add(each[i]());
            }
        }
        return samples.Select(s => new Measurement(s)).ToArray();
    }

    public static double Seconds(Action work)
    {
        var clock = Stopwatch.StartNew();
        work();
        return clock.Elapsed.TotalSeconds;
    }
}

/// <summary>One row of the report: a measured value, the baseline it is compared to, and their ratio.</summary>
/// <remarks>
/// Rows with no natural baseline (recovery times) leave it null and have no ratio. A row may carry a second
/// limit beside its baseline, <paramref name="Reference"/> (the R-rank rows: R bare loops side by side), which
/// the JSON gives with the value's ratio to it. A row whose value and baseline were sampled in turns is
/// <paramref name="Paired"/>: the i-th sample of each was taken one after the other, so their ratio sees
/// the machine at one speed. This machine's speed holds for seconds and then jumps (the bare 1 MB loop ran
/// at about 550 or about 760 steps/s, a whole sample at one or the other), so where the slow stretches fall
/// moves the ratio of medians; the median of the pairs' ratios, shown beside it, does not move with them.
/// The goal is judged on the ratio of medians, as the issue defines it.
/// </remarks>
internal sealed record Row(string Name, string Unit, Measurement Value, Measurement? Baseline, string BaselineName, double? Goal, bool HigherIsBetter, string Limit,
    Measurement? Reference = null, string? ReferenceName = null, bool Paired = false)
{
    public double? Ratio => Baseline is null ? null : Value.Median / Baseline.Median;

    /// <summary>Each turn's value divided by the same turn's baseline; null for rows not sampled in turns.</summary>
    public Measurement? PairedRatios => Paired && Baseline is { } baseline && baseline.Samples.Count == Value.Samples.Count
        ? new(Value.Samples.Zip(baseline.Samples, (value, against) => value / against).ToList())
        : null;

    public double? RatioToReference => Reference is null ? null : Value.Median / Reference.Median;

    public bool? MeetsGoal => Goal is { } goal && Ratio is { } ratio ? HigherIsBetter ? ratio >= goal : ratio <= goal : null;
}
