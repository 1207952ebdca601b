using System.Globalization;

namespace Orchestrator.Cli.Commands;

/// <summary>
/// Bounds for <c>train</c>'s numeric options, checked on the value as given (flag or config file) before it
/// becomes a <see cref="TimeSpan"/> or a count, so NaN, infinities, overflows and meaningless negatives are one
/// line naming the option and the range instead of an exception deep in the runtime.
/// </summary>
internal static class OptionRange
{
    /// <summary>One week: no step, restart window or checkpoint interval is meaningfully longer.</summary>
    public const double WeekSeconds = 7 * 24 * 3600;

    public static double? Check(string option, double? value, double min, double max, string unit = "")
    {
        if (value is not { } number)
        {
            return null;
        }
        if (double.IsNaN(number) || number < min || number > max)
        {
            throw new UsageException($"{option} {Text(number)} is out of range: give a number from {Text(min)} to {Text(max)}{unit}");
        }
        return number;
    }

    /// <summary>For options where zero means nothing (a timeout, an interval): above zero, at most <paramref name="max"/>.</summary>
    public static double? Positive(string option, double? value, double max, string unit = "")
    {
        if (value is { } number && (double.IsNaN(number) || number <= 0 || number > max))
        {
            throw new UsageException($"{option} {Text(number)} is out of range: give a number above 0 and at most {Text(max)}{unit}");
        }
        return value;
    }

    public static long? Check(string option, long? value, long min, long max)
    {
        if (value is { } number && (number < min || number > max))
        {
            throw new UsageException($"{option} {number.ToString(CultureInfo.InvariantCulture)} is out of range: give a whole number from {min.ToString(CultureInfo.InvariantCulture)} to {max.ToString(CultureInfo.InvariantCulture)}");
        }
        return value;
    }

    public static int? Check(string option, int? value, int min, int max) => (int?)Check(option, (long?)value, min, max);

    private static string Text(double value) => value.ToString("G", CultureInfo.InvariantCulture);
}
