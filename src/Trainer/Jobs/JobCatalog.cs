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

    public static IReadOnlyCollection<string> Names => Factories.Keys;

    public static Func<TrainingJob> Factory(string name, BuiltInJobOptions options) =>
        Factories.TryGetValue(name, out var create)
            ? () => create(options)
            : throw new ArgumentException($"unknown job '{name}' (choose {string.Join(", ", Names)})");
}
