using Orchestrator.Soak;

// Usage: dotnet run -c Release --project bench/Orchestrator.Soak -- [--kills N] [--seed S] [options]
// kill -9 at random moments across mlp, cnn and charlm, R = 1 and 2, async and sync saves; see README, Tests.
// Exit 0 only when no resume failed, every finished run matched its reference weights and no committed
// checkpoint was lost; 1 otherwise; 2 for bad arguments.
const string Usage = """
    usage: Orchestrator.Soak [--kills N] [--seed S] [--min-kills-per-episode K] [--max-kills-per-episode K] [--configs JOB:R:MODE,...]
                             [--steps N] [--checkpoint-every N] [--samples N] [--scratch DIR] [--replay JOB:R:MODE:EPISODE_SEED]
      --kills N                  kill -9 to deliver in all (default 60)
      --seed S                   seeds every episode's kill count and moments (default 1)
      --min-kills-per-episode K  kills before a run is left to finish: at least (default 1)
      --max-kills-per-episode K  and at most (default 3), drawn for each episode
      --configs LIST             only these configurations, e.g. cnn:2:sync,mlp:1:async (default all 12)
      --steps, --checkpoint-every, --samples   the size of every run (default 60, 5, 512)
      --scratch DIR              where work dirs go; a failed episode's is kept (default a new temp folder)
      --replay JOB:R:MODE:SEED   run the one episode a failure line names
    """;

if (args is ["--help"] or ["-h"])
{
    Console.WriteLine(Usage);
    return 0;
}
try
{
    var options = Parse(args);
    Console.WriteLine($"soak: {options.Kills} kills, seed {options.Seed}, {options.Configurations.Count} configuration(s), " +
        $"{options.Shape.Steps} steps, a checkpoint every {options.Shape.CheckpointEvery}, {options.MinKillsPerEpisode} to {options.MaxKillsPerEpisode} kills an episode; scratch {options.Scratch}");
    var result = new SoakEngine(options, line => Console.WriteLine(line)).Run();
    Console.WriteLine();
    Console.WriteLine(result.Table());
    if (result.Clean)
    {
        Directory.Delete(options.Scratch, recursive: true);
    }
    return result.Clean ? 0 : 1;
}
catch (ArgumentException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    Console.Error.WriteLine(Usage);
    return 2;
}
catch (InvalidOperationException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 1;
}

static SoakOptions Parse(string[] args)
{
    var values = new Dictionary<string, string>(StringComparer.Ordinal);
    for (var i = 0; i < args.Length; i += 2)
    {
        if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
        {
            throw new ArgumentException($"'{args[i]}' needs a value or is not an option");
        }
        values[args[i]] = args[i + 1];
    }
    var known = new[] { "--kills", "--seed", "--min-kills-per-episode", "--max-kills-per-episode", "--configs", "--steps", "--checkpoint-every", "--samples", "--scratch", "--replay" };
    if (values.Keys.FirstOrDefault(k => !known.Contains(k)) is { } unknown)
    {
        throw new ArgumentException($"unknown option {unknown}");
    }
    int Int(string name, int fallback, int min)
    {
        if (!values.TryGetValue(name, out var text))
        {
            return fallback;
        }
        return int.TryParse(text, out var value) && value >= min ? value : throw new ArgumentException($"{name} must be a whole number of at least {min}, not '{text}'");
    }
    var configurations = values.TryGetValue("--configs", out var list)
        ? list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(SoakConfiguration.Parse).ToList()
        : SoakConfiguration.All;
    (SoakConfiguration, int)? replay = null;
    if (values.TryGetValue("--replay", out var replayText))
    {
        var cut = replayText.LastIndexOf(':');
        replay = cut > 0 && int.TryParse(replayText[(cut + 1)..], out var episodeSeed)
            ? (SoakConfiguration.Parse(replayText[..cut]), episodeSeed)
            : throw new ArgumentException($"--replay takes JOB:R:MODE:EPISODE_SEED as a failure line prints it, not '{replayText}'");
    }
    var scratch = values.TryGetValue("--scratch", out var given) ? Path.GetFullPath(given) : Path.Combine(Path.GetTempPath(), $"orchestrator-soak-{Guid.NewGuid():N}");
    Directory.CreateDirectory(scratch);
    var (minKills, maxKills) = (Int("--min-kills-per-episode", 1, 1), Int("--max-kills-per-episode", 3, 1));
    if (minKills > maxKills)
    {
        throw new ArgumentException($"--min-kills-per-episode {minKills} is more than --max-kills-per-episode {maxKills}");
    }
    var dll = Path.Combine(AppContext.BaseDirectory, "orchestrator.dll");
    return new SoakOptions(
        Int("--kills", 60, 1), Int("--seed", 1, 0), minKills, maxKills,
        new RunShape(Int("--steps", RunShape.Small.Steps, 1), Int("--checkpoint-every", RunShape.Small.CheckpointEvery, 1), Int("--samples", RunShape.Small.Samples, 1)),
        configurations, scratch, dll, replay);
}
