namespace Orchestrator.Trainer.Jobs;

/// <summary>The built-in jobs by name.</summary>
public static class JobCatalog
{
    private static readonly Dictionary<string, Func<BuiltInJobOptions, TrainingJob>> Factories = new(StringComparer.Ordinal)
    {
        [MlpJob.Name] = MlpJob.Create,
        [CnnJob.Name] = CnnJob.Create,
        [CharLmJob.Name] = CharLmJob.Create,
    };

    private static readonly Dictionary<string, IJobDefinition> Definitions = new IJobDefinition[] { new MlpJob(), new CnnJob(), new CharLmJob() }
        .ToDictionary(d => d.Name, StringComparer.Ordinal);

    public static IReadOnlyCollection<string> Names => Factories.Keys;

    /// <summary>The built-in job called <paramref name="name"/>, or null.</summary>
    public static IJobDefinition? Find(string name) => Definitions.GetValueOrDefault(name);

    /// <summary>The global batch a job trains with: ranks split it, so a world size must divide it.</summary>
    public static int BatchSize(string name, BuiltInJobOptions options) => options.BatchSize ?? name switch
    {
        MlpJob.Name => MlpJob.DefaultBatchSize,
        CnnJob.Name => CnnJob.DefaultBatchSize,
        CharLmJob.Name => CharLmJob.DefaultBatchSize,
        _ => throw new ArgumentException($"unknown job '{name}' (choose {string.Join(", ", Names)})"),
    };

    public static Func<TrainingJob> Factory(string name, BuiltInJobOptions options) =>
        Factories.TryGetValue(name, out var create)
            ? () => create(options)
            : throw new ArgumentException($"unknown job '{name}' (choose {string.Join(", ", Names)}, or give --job-assembly PATH.dll for a job of your own)");
}
