namespace Orchestrator.Soak;

/// <summary>How a run's scheduled saves are written: in the background (train's default) or on the training thread.</summary>
public enum SaveMode
{
    Async,
    Sync,
}

/// <summary>One cell of the soak: a built-in job, a rank count and a save mode.</summary>
public sealed record SoakConfiguration(string Job, int Ranks, SaveMode Save)
{
    public static readonly IReadOnlyList<string> Jobs = ["mlp", "cnn", "charlm"];

    /// <summary>Every job with R = 1 and 2, each with async and sync saves: 12 configurations.</summary>
    public static IReadOnlyList<SoakConfiguration> All { get; } =
        [.. from job in Jobs from ranks in new[] { 1, 2 } from save in new[] { SaveMode.Async, SaveMode.Sync } select new SoakConfiguration(job, ranks, save)];

    /// <summary>The save mode never changes the weights: runs of both modes are compared with one reference.</summary>
    public (string Job, int Ranks) ReferenceKey => (Job, Ranks);

    public override string ToString() => $"{Job} R={Ranks} {Save.ToString().ToLowerInvariant()}";

    /// <summary>Parses <c>JOB:R:MODE</c>, e.g. <c>cnn:2:sync</c>, as <c>--configs</c> and <c>--replay</c> take it.</summary>
    public static SoakConfiguration Parse(string text)
    {
        var parts = text.Split(':');
        if (parts.Length != 3 || !Jobs.Contains(parts[0]) || parts[1] is not ("1" or "2") || !Enum.TryParse<SaveMode>(parts[2], ignoreCase: true, out var save))
        {
            throw new ArgumentException($"'{text}' is not a configuration: use JOB:R:MODE with JOB mlp, cnn or charlm, R 1 or 2, MODE async or sync (e.g. cnn:2:sync)");
        }
        return new SoakConfiguration(parts[0], int.Parse(parts[1]), save);
    }

    public string Key => $"{Job}:{Ranks}:{Save.ToString().ToLowerInvariant()}";

    /// <summary>The <c>train</c> command line of every run of this configuration (the same each time, so a rerun resumes).</summary>
    public IReadOnlyList<string> TrainArguments(string workDir, RunShape shape) =>
    [
        "train", "--job", Job, "--work-dir", workDir, "--ranks", Ranks.ToString(),
        "--steps", shape.Steps.ToString(), "--checkpoint-every", shape.CheckpointEvery.ToString(),
        "--samples", shape.Samples.ToString(), "--threads", "1", "--seed", "1",
    ];

    /// <summary>Sync saves have no train flag: the environment switch the rank reads (see SynchronousSaves in src/Trainer).</summary>
    public IReadOnlyDictionary<string, string> Environment =>
        Save == SaveMode.Sync ? new Dictionary<string, string> { ["ORCHESTRATOR_SYNC_SAVES"] = "1" } : new Dictionary<string, string>();
}

/// <summary>The size of every run: small, so that a kill and the rerun after it are cheap.</summary>
public sealed record RunShape(int Steps, int CheckpointEvery, int Samples)
{
    public static readonly RunShape Small = new(60, 5, 512);
}
