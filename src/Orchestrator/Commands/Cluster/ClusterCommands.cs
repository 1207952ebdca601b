using Orchestrator.Actors.Cluster;

namespace Orchestrator.Cli.Commands.Cluster;

/// <summary><c>status --cluster</c>, <c>stop --cluster</c> and <c>drain --cluster</c>: small questions and orders to the coordinator.</summary>
internal static class ClusterCommands
{
    public const string StopHelp = """
        usage: orchestrator stop --cluster HOST:PORT --work-dir DIR [--secret-file FILE]

        Stops the job with a final checkpoint; submitting it again continues it.
        """;

    public const string DrainHelp = """
        usage: orchestrator drain --cluster HOST:PORT --node HOST:PORT [--secret-file FILE]

        Moves work off a node before it is removed: every job with ranks there checkpoints at once and
        continues on the other nodes (smaller, if its --min-ranks allows; otherwise it waits).
        """;

    public static int Status(string hostPort, string? secret)
    {
        using var client = new ClusterClient(hostPort, secret);
        var status = client.Status(TimeSpan.FromSeconds(15));
        if (WireProtocol.ClusterProblem(status.Protocol) is { } problem)
        {
            Console.Error.WriteLine($"warning: {problem}");
        }
        if (status.Insecure)
        {
            Console.Out.WriteLine(ClusterOptions.InsecureCluster);
        }
        Console.Out.WriteLine($"nodes ({status.Nodes.Length}):");
        foreach (var node in status.Nodes)
        {
            Console.Out.WriteLine($"  {JobFollower.Short(node.Address),-22} {node.Status,-12} {string.Join(",", node.Devices)}{(node.Problem is { } p ? $"  ({p})" : "")}" +
                $"{(node.JoinedBy is { } joined ? $"  [{joined}]" : "")}");
        }
        Console.Out.WriteLine($"jobs ({status.Jobs.Length}):");
        foreach (var job in status.Jobs)
        {
            Console.Out.WriteLine($"  {job.WorkDir}: {JobFollower.Describe(job)}");
        }
        return ExitCodes.Ok;
    }

    public static int Stop(IReadOnlyList<string> args)
    {
        var parsed = ParsedArguments.Parse("stop", args, new HashSet<string> { "--cluster", "--work-dir", "--secret-file" }, new HashSet<string>());
        var workDir = Path.GetFullPath(parsed.Value("--work-dir") ?? throw new UsageException("--work-dir is required (the job's work dir)"));
        return Order(parsed, new StopClusterJob(workDir, Proof(parsed, workDir)));
    }

    public static int Drain(IReadOnlyList<string> args)
    {
        var parsed = ParsedArguments.Parse("drain", args, new HashSet<string> { "--cluster", "--node", "--secret-file" }, new HashSet<string>());
        var node = ClusterOptions.HostPort("--node", parsed.Value("--node"));
        return Order(parsed, new DrainNode(node, Proof(parsed, node)));
    }

    private static int Order(ParsedArguments parsed, object order)
    {
        using var client = new ClusterClient(ClusterOptions.HostPort("--cluster", parsed.Value("--cluster")), ClusterOptions.Secret(parsed));
        var answer = client.Ask<ClusterCommandAnswer>(order, TimeSpan.FromSeconds(15));
        if (!answer.Done)
        {
            throw new UsageException(answer.Message);
        }
        Console.Out.WriteLine(answer.Message);
        return ExitCodes.Ok;
    }

    private static string Proof(ParsedArguments parsed, string subject) => new ClusterCredentials(ClusterOptions.Secret(parsed) ?? "", []).Prove(subject);
}
