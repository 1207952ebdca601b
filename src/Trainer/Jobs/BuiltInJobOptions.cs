using System.Globalization;

namespace Orchestrator.Trainer.Jobs;

/// <summary>
/// Settings shared by the built-in jobs. Every value has a default that trains in seconds on a laptop; a
/// config file (JSON) or command-line flags override them. Rank/Ranks pick this process's data shard.
/// The four job settings travel to a job as its arguments (<see cref="ArgumentKeys"/>), so a user's job
/// can read <c>--batch-size</c>, <c>--lr</c>, <c>--samples</c> and <c>--width</c> too.
/// </summary>
public sealed record BuiltInJobOptions
{
    public const string BatchSizeKey = "batchSize";
    public const string LearningRateKey = "learningRate";
    public const string SamplesKey = "samples";
    public const string WidthKey = "width";

    public static readonly IReadOnlyList<string> ArgumentKeys = [BatchSizeKey, LearningRateKey, SamplesKey, WidthKey];

    public long Seed { get; init; } = 1;
    public int? BatchSize { get; init; }
    public double? LearningRate { get; init; }
    public int? Samples { get; init; }
    public int? Width { get; init; }
    public string Device { get; init; } = "cpu";
    public int Rank { get; init; }
    public int Ranks { get; init; } = 1;

    /// <summary>The job settings that were given, as job arguments (the flags' values, invariant text).</summary>
    public IReadOnlyDictionary<string, string> AsArguments()
    {
        var arguments = new Dictionary<string, string>(StringComparer.Ordinal);
        if (BatchSize is { } batch)
        {
            arguments[BatchSizeKey] = batch.ToString(CultureInfo.InvariantCulture);
        }
        if (LearningRate is { } rate)
        {
            arguments[LearningRateKey] = rate.ToString("R", CultureInfo.InvariantCulture);
        }
        if (Samples is { } samples)
        {
            arguments[SamplesKey] = samples.ToString(CultureInfo.InvariantCulture);
        }
        if (Width is { } width)
        {
            arguments[WidthKey] = width.ToString(CultureInfo.InvariantCulture);
        }
        return arguments;
    }

    /// <summary>A built-in job's settings from the context its definition is given.</summary>
    public static BuiltInJobOptions From(JobContext context) => new()
    {
        Seed = context.Seed,
        BatchSize = context.Args.OptionalInt(BatchSizeKey),
        LearningRate = context.Args.OptionalDouble(LearningRateKey),
        Samples = context.Args.OptionalInt(SamplesKey),
        Width = context.Args.OptionalInt(WidthKey),
        Device = context.Device.ToString(),
        Rank = context.Rank,
        Ranks = context.WorldSize,
    };
}
