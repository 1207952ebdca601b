using Orchestrator.Actors.Cluster;
using Orchestrator.Actors.Job;

namespace Orchestrator.Cli.Commands.Cluster;

/// <summary><c>orchestrator submit</c>: hands a job to the cluster's coordinator, and with --wait follows it to its end.</summary>
internal static class SubmitCommand
{
    public const string Help = """
        usage: orchestrator submit --cluster HOST:PORT --job mlp|cnn|charlm --work-dir DIR
                                   (or --job-assembly PATH.dll --job NAME [--job-arg KEY=VALUE ...], PATH on the shared volume)
                                   [--ranks R | --min-ranks A --max-ranks B] [--wait] [train options]

          --cluster HOST:PORT    any node of the cluster
          --work-dir DIR         on the volume every node mounts at the same path (checkpoints go there)
          --ranks R              exactly R ranks (the job waits while fewer devices are there)
          --min-ranks A          elastic: go on with as few as A ranks when nodes are lost...
          --max-ranks B          ...and grow up to B at a checkpoint when nodes join
          --wait                 follow the job until it ends; exit code as for train
          --secret-file FILE     the cluster secret (env ORCHESTRATOR_SECRET)
        Any `train` option except --journal and --metrics-port (the cluster's nodes hold those) applies too.
        A world size must divide the global batch (--batch-size); the global batch stays the same at any size,
        and sizes between the bounds that do not divide it are skipped.
        """;

    public static int Run(IReadOnlyList<string> args)
    {
        var options = new HashSet<string>(TrainCommand.ValueOptions) { "--cluster", "--min-ranks", "--max-ranks", "--secret-file" };
        options.Remove("--journal");
        options.Remove("--metrics-port");
        var parsed = ParsedArguments.Parse("submit", args, options, new HashSet<string>(TrainCommand.Switches) { "--wait" }, TrainCommand.Repeatable);
        if (parsed.Positionals.Count > 0)
        {
            throw new UsageException($"unexpected argument '{parsed.Positionals[0]}' (orchestrator submit --help)");
        }
        var cluster = ClusterOptions.HostPort("--cluster", parsed.Value("--cluster"));
        var config = parsed.Value("--config") is { } path ? TrainConfigFile.Read(path) : new TrainConfigFile();
        var spec = TrainSpecBuilder.Build(parsed, config);
        var min = parsed.Int("--min-ranks");
        var max = parsed.Int("--max-ranks");
        var ranks = parsed.Int("--ranks") ?? config.Ranks ?? max ?? min ?? 1;
        spec = spec with { Ranks = ranks, MinRanks = min ?? Math.Min(ranks, max ?? ranks), MaxRanks = max ?? Math.Max(ranks, min ?? ranks) };
        if (spec.MinRanks < 1 || spec.MinRanks > spec.MaxRanks)
        {
            throw new UsageException($"--min-ranks {spec.MinRanks} must be at least 1 and at most --max-ranks {spec.MaxRanks}");
        }
        spec = JobSpecValidator.Validate(spec);
        // The largest world size that divides the global batch: the job starts there when the devices are there.
        spec = spec with { Ranks = new WorldSizing(spec.MinRanks!.Value, spec.MaxRanks!.Value, spec.BatchToDivide()).SizeFor(spec.MaxRanks!.Value)!.Value };
        using var client = new ClusterClient(cluster, ClusterOptions.Secret(parsed));
        var credentials = client.Credentials;
        // An older coordinator would take a spec of this version and drop what it does not know: ask first.
        if (WireProtocol.ClusterProblem(client.Status(TimeSpan.FromSeconds(30)).Protocol) is { } problem)
        {
            throw new UsageException($"{problem}; nothing was submitted");
        }
        var answer = client.Ask<SubmitAnswer>(new SubmitJob(spec, credentials.Prove(spec.WorkDir), WireProtocol.Version), TimeSpan.FromSeconds(30));
        if (!answer.Accepted)
        {
            throw new UsageException(answer.Message);
        }
        Console.Out.WriteLine(answer.Message);
        return parsed.Has("--wait") ? JobFollower.Follow(client, spec.WorkDir) : ExitCodes.Ok;
    }
}
