using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Orchestrator.Bench;

/// <summary>The results as one Markdown table (printed) and a JSON file a script can check.</summary>
internal static class Report
{
    public static string Markdown(IReadOnlyList<Row> rows)
    {
        var text = new StringBuilder();
        text.AppendLine("| measurement | ratio (goal) | value: median [min, max] | baseline: median [min, max] | what limits it |");
        text.AppendLine("| --- | --- | --- | --- | --- |");
        foreach (var row in rows)
        {
            var ratio = row.Ratio is { } r
                ? F(r, "0.000") + (row.Goal is { } goal ? $" ({(row.HigherIsBetter ? "≥" : "≤")} {F(goal, "0.##")}{(row.MeetsGoal == true ? ", met" : ", missed")})" : "")
                : "–";
            if (row.PairedRatios is { } paired)
            {
                ratio += $"; paired {F(paired.Median, "0.000")}";
            }
            var baseline = row.Baseline is { } b ? $"{Range(b)} {row.Unit} ({row.BaselineName})" : "–";
            text.AppendLine($"| {row.Name} | {ratio} | {Range(row.Value)} {row.Unit} | {baseline} | {row.Limit} |");
        }
        return text.ToString();
    }

    public static void WriteJson(string path, IReadOnlyList<Row> rows, string machine)
    {
        var document = new
        {
            machine,
            createdUtc = DateTimeOffset.UtcNow,
            rows = rows.Select(row => new
            {
                name = row.Name,
                unit = row.Unit,
                value = Summary(row.Value),
                baseline = row.Baseline is null ? null : Summary(row.Baseline),
                baselineName = row.Baseline is null ? null : row.BaselineName,
                ratio = row.Ratio,
                pairedRatio = row.PairedRatios is null ? null : Summary(row.PairedRatios),
                goal = row.Goal,
                higherIsBetter = row.HigherIsBetter,
                meetsGoal = row.MeetsGoal,
                reference = row.Reference is null ? null : Summary(row.Reference),
                referenceName = row.Reference is null ? null : row.ReferenceName,
                ratioToReference = row.RatioToReference,
                limit = row.Limit,
            }),
        };
        File.WriteAllText(path, JsonSerializer.Serialize(document, new JsonSerializerOptions { WriteIndented = true }));
    }

    private static object Summary(Measurement m) => new { median = m.Median, min = m.Min, max = m.Max, samples = m.Samples };

    /// <summary>A measurement as the table shows it: median [min, max].</summary>
    public static string Range(Measurement m) => $"{F(m.Median)} [{F(m.Min)}, {F(m.Max)}]";

    private static string F(double value, string? format = null) =>
        value.ToString(format ?? (Math.Abs(value) >= 100 ? "0" : Math.Abs(value) >= 1 ? "0.0" : "0.000"), CultureInfo.InvariantCulture);
}
