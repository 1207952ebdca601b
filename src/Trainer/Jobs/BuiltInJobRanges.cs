using System.Globalization;

namespace Orchestrator.Trainer.Jobs;

/// <summary>
/// The settings a built-in job accepts, checked before a tensor is made: a width of 0 is a libtorch error
/// and a width of 100,000 a 40 GB matrix, so each job names its own sane range and a value outside it is
/// one line naming the flag and the range.
/// </summary>
/// <param name="Job">The job's name, for the message.</param>
/// <param name="MaxSamples">Most samples (for charlm: characters of corpus) the job generates in memory.</param>
/// <param name="MaxWidth">Widest hidden layer: its parameters and activations stay within about a gigabyte.</param>
/// <param name="ExamplesLost">Samples that yield no example (charlm's first context window).</param>
public sealed record BuiltInJobRanges(string Job, int MaxSamples, int MaxWidth, int ExamplesLost = 0)
{
    public const int MaxBatchSize = 65_536;

    /// <summary>Adam on these models diverges long before this; above it a value is a typo, not a setting.</summary>
    public const double MaxLearningRate = 10;

    /// <summary>The options, unchanged, when every given value is within range; else one-line <see cref="ArgumentException"/>.</summary>
    public BuiltInJobOptions Check(BuiltInJobOptions options, int defaultSamples, int defaultBatchSize)
    {
        var minSamples = ExamplesLost + 1;
        Within("--samples", options.Samples, minSamples, MaxSamples);
        Within("--width", options.Width, 1, MaxWidth);
        Within("--batch-size", options.BatchSize, 1, MaxBatchSize);
        if (options.LearningRate is { } rate && !(rate > 0 && rate <= MaxLearningRate))
        {
            throw new ArgumentException($"--lr {Text(rate)} is out of range for job {Job}: give a number above 0 and at most {Text(MaxLearningRate)}");
        }
        var examples = (options.Samples ?? defaultSamples) - ExamplesLost;
        var batch = options.BatchSize ?? defaultBatchSize;
        if (batch > examples)
        {
            throw new ArgumentException($"--batch-size {batch} is more than the {examples} example(s) of job {Job}'s {options.Samples ?? defaultSamples} samples; give a smaller --batch-size or more --samples");
        }
        return options;
    }

    private void Within(string flag, int? value, int min, int max)
    {
        if (value is { } number && (number < min || number > max))
        {
            throw new ArgumentException($"{flag} {number.ToString(CultureInfo.InvariantCulture)} is out of range for job {Job}: give {min.ToString(CultureInfo.InvariantCulture)} to {max.ToString(CultureInfo.InvariantCulture)}");
        }
    }

    private static string Text(double value) => value.ToString("G", CultureInfo.InvariantCulture);
}
