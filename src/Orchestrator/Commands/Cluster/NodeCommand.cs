using Akka.Actor;
using Orchestrator.Actors.Cluster;
using Orchestrator.Actors.Hosting;
using Orchestrator.Cli.Terminal;

namespace Orchestrator.Cli.Commands.Cluster;

/// <summary>
/// <c>orchestrator node</c>: one cluster member. It offers its devices as ranks, can host the job
/// coordinator (a cluster singleton) and runs until stopped (Ctrl-C leaves the cluster gracefully).
/// </summary>
internal static class NodeCommand
{
    public const string Help = """
        usage: orchestrator node --port P --discovery config --contact-points HOST:MGMT_PORT[,...] [options]
               orchestrator node --port P --discovery kubernetes [--pod-label-selector app=orchestrator] [options]
               orchestrator node --port P --seeds HOST:PORT[,HOST:PORT] [options]

          --port P               port for cluster traffic (env ORCHESTRATOR_PORT; default 4053)
          --hostname H           the address other nodes reach this one at (env ORCHESTRATOR_HOSTNAME; default 127.0.0.1)
          --discovery METHOD     form or join the cluster through Cluster Bootstrap: the node asks the others'
                                 management endpoints and joins the cluster they are in, or, when none is, the
                                 node with the lowest address forms one; a restarted node joins the one that is
                                 there (env ORCHESTRATOR_DISCOVERY). Methods:
                                   config      the endpoints in --contact-points (env ORCHESTRATOR_CONTACT_POINTS):
                                               host:management-port of the nodes, this one included, the same list
                                               on every node; a name with several addresses (a Compose service
                                               scaled with --scale) stands for each of them
                                   kubernetes  the pods the Kubernetes API lists under --pod-label-selector
                                               (env ORCHESTRATOR_POD_LABEL_SELECTOR; default app=orchestrator), in
                                               the pod's namespace, at their container port named "management"
          --management-port P    Akka.Management's HTTP endpoints (env ORCHESTRATOR_MANAGEMENT_PORT; default 8558
                                 with --discovery, none with --seeds unless given): GET /health/alive answers 200
                                 while the node runs, GET /health/ready 200 while it is an Up member (503 while
                                 joining or leaving), and /bootstrap/seed-nodes answers other nodes' bootstrap
          --seeds LIST           instead of --discovery: seed nodes, host:port separated by commas; a seed lists
                                 itself first to start a new cluster (env ORCHESTRATOR_SEEDS)
          --devices LIST         devices offered as ranks, one rank each: cpu,cpu or cuda:0,cuda:1 (env ORCHESTRATOR_DEVICES; default cpu)
          --journal J            the shared job journal: postgres:CONNECTION (a real cluster) or sqlite:FILE
                                 (nodes on one machine) (env ORCHESTRATOR_JOURNAL)
          --secret-file FILE     the cluster secret; every node and client must have the same (env ORCHESTRATOR_SECRET holds it
                                 directly, or orchestrator.cluster.secret in --config); a node without one refuses to start
          --insecure             run without a secret: anyone who reaches a node can join, submit, stop and read jobs
                                 (for a cluster on one machine or a closed network; said on every start and in status)
          --config FILE          HOCON laid over cluster-config/cluster.hocon (flags win)
          --metrics-port P       serve Prometheus metrics at http://HOSTNAME:P/metrics: cluster members by status,
                                 and the jobs whose supervisor runs here (env ORCHESTRATOR_METRICS_PORT)

        Checkpoint and work directories must be on a volume every node mounts at the same path: a node that
        cannot see a job's checkpoint directory is given no ranks of that job, and says so.
        Ctrl-C or SIGTERM: the node leaves the cluster; its ranks stop, and their jobs go on from their latest
        checkpoint on the other nodes (a coordinator here moves to the next oldest node).
        """;

    private const string LeavingAnnouncement = "leaving the cluster: the ranks here stop and their jobs go on from their latest checkpoint " +
        "on the other nodes; a job coordinator here moves to the next oldest node";

    // Joining a running cluster takes a few seconds; a seed join is retried every 10 s.
    private static readonly TimeSpan JoinWarningAfter = TimeSpan.FromSeconds(20);

    private static readonly HashSet<string> ValueOptions = ["--port", "--hostname", "--seeds", "--devices", "--journal", "--secret-file", "--config", "--metrics-port",
        "--discovery", "--contact-points", "--pod-label-selector", "--management-port"];

    public static int Run(IReadOnlyList<string> args)
    {
        var parsed = ParsedArguments.Parse("node", args, ValueOptions, new HashSet<string> { "--insecure" });
        if (parsed.Positionals.Count > 0)
        {
            throw new UsageException($"unexpected argument '{parsed.Positionals[0]}' (orchestrator node --help)");
        }
        var settings = ClusterOptions.NodeSettings(parsed);
        var config = ClusterOptions.NodeConfig(settings);
        NodePort.EnsureFree(settings.Hostname, settings.Port);
        if (settings.ManagementPort is { } managementPort)
        {
            NodePort.EnsureFree(settings.Hostname, managementPort, "--management-port", ClusterOptions.DefaultManagementPort);
            // The endpoint listens on every address (see ManagementEndpoint): the port must be free on all of them.
            NodePort.EnsureFree("0.0.0.0", managementPort, "--management-port", ClusterOptions.DefaultManagementPort);
        }
        var credentials = ClusterOptions.NodeCredentials(config, parsed.Has("--insecure"));
        settings.Journal.CheckReachable();
        var outcome = new NodeOutcome();
        using var metrics = MetricsEndpoint.Start(ClusterOptions.MetricsPort(parsed), settings.Hostname);
        using var loggers = TerminalLog.ForNode(config);
        using var system = OrchestratorNode.Recipe(config, settings.Devices, credentials, outcome, NodeReporter.Props())
            .WithManagement(settings)
            .WithLoggerFactory(loggers)
            .Build();
        var management = settings.ManagementPort is { } port ? $"; management http://{settings.Hostname}:{port}" : "";
        Console.Out.WriteLine($"node {settings.Hostname}:{settings.Port} offering {string.Join(",", settings.Devices)}; {settings.Join.Describe()}{management}");
        WarnIfNotJoined(system, settings.Join);
        using var stop = new StopSignals(() => Akka.Cluster.Cluster.Get(system).Leave(Akka.Cluster.Cluster.Get(system).SelfAddress), announcement: LeavingAnnouncement);
        system.WhenTerminated.Wait();
        if (UnexpectedStop(system) is { } why)
        {
            Console.Error.WriteLine($"error: the node stopped: {why}");
            return ExitCodes.Failed;
        }
        return outcome.Refusal is null ? ExitCodes.Ok : ExitCodes.BadInput;
    }

    // Akka shuts the whole system down on some failures of its own (a TLS handshake that fails, for one) and
    // says why only in its log; without this the node would exit 0 with no word of ours.
    private static string? UnexpectedStop(ActorSystem system) => CoordinatedShutdown.Get(system).ShutdownReason switch
    {
        null or CoordinatedShutdown.ClusterLeavingReason or CoordinatedShutdown.ClusterDowningReason
            or CoordinatedShutdown.ClrExitReason or CoordinatedShutdown.ActorSystemTerminateReason => null,
        // Akka.Remote keeps its TlsHandshakeFailureReason internal: recognised by name.
        var tls when tls.GetType().Name == "TlsHandshakeFailureReason" => $"{tls} (the nodes must trust each other's certificates: install the CA on every " +
            "machine, or for a self-signed certificate on one machine set ssl.suppress-validation = true; see cluster-config/tls.hocon)",
        var other => other.ToString(),
    };

    // A node that cannot reach any seed (none running, another port, or TLS on one side only: the two cannot
    // even handshake) would otherwise wait in silence; Akka logs nothing on the side that failed to connect.
    private static void WarnIfNotJoined(ActorSystem system, ClusterJoin join)
    {
        var up = new TaskCompletionSource();
        Akka.Cluster.Cluster.Get(system).RegisterOnMemberUp(() => up.TrySetResult());
        _ = Task.WhenAny(up.Task, system.WhenTerminated, Task.Delay(JoinWarningAfter)).ContinueWith(
            _ =>
            {
                if (!up.Task.IsCompleted && !system.WhenTerminated.IsCompleted)
                {
                    Console.Error.WriteLine(join switch
                    {
                        ClusterJoin.Seeds seeds => $"warning: not in the cluster after {JoinWarningAfter.TotalSeconds:0} s: no seed of {string.Join(",", seeds.HostPorts)} has let this node join " +
                            "(is a seed running there? every node needs the same --config: a node with TLS, akka.remote.dot-netty.tcp.enable-ssl, and one without cannot talk at all)",
                        _ => $"warning: not in the cluster after {JoinWarningAfter.TotalSeconds:0} s: {join.Describe()} found no cluster to join, and a new one forms only " +
                            "once every contact point discovered answers (are the other nodes running, with their management ports reachable? every node needs the same --config)",
                    });
                }
            },
            TaskScheduler.Default);
    }
}
