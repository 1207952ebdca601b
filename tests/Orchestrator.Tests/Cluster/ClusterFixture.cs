using Orchestrator.Tests.Support;

namespace Orchestrator.Tests.Cluster;

/// <summary>Nodes on 127.0.0.1 sharing one temp folder (the "shared volume") and one SQLite journal file.</summary>
public sealed class LocalCluster : IDisposable
{
    private readonly TempDirectory _temp = new();
    private readonly List<NodeProcess> _processes = [];

    public LocalCluster()
    {
        Directory.CreateDirectory(Shared);
        Directory.CreateDirectory(System.IO.Path.Combine(_temp.Path, "journal"));
    }

    /// <summary>Where work dirs go: every node sees it, except one started with it hidden.</summary>
    public string Shared => System.IO.Path.Combine(_temp.Path, "shared");

    public string JournalFile => System.IO.Path.Combine(_temp.Path, "journal", "cluster.db");

    public string Path => _temp.Path;

    /// <summary>The orchestrator its nodes and clients run: null, this build's; else an installed tool's command.</summary>
    public string? Program { get; init; }

    /// <summary>The secret its nodes and clients hold unless a test gives another (a node refuses to start without one).</summary>
    public string Secret { get; } = $"test-secret-{Guid.NewGuid():N}";

    /// <summary>What a client of this cluster runs with: its secret in ORCHESTRATOR_SECRET, as a user would set it.</summary>
    public IReadOnlyDictionary<string, string> ClientEnvironment => new Dictionary<string, string> { ["ORCHESTRATOR_SECRET"] = Secret };

    /// <param name="secret">Another secret than the cluster's (a node that does not belong).</param>
    /// <param name="hidden">A folder this node cannot see (an empty one in its place), as if not mounted there.</param>
    public NodeProcess Node(int port, string seeds, string? secret = null, string? config = null, bool withoutSharedVolume = false, IEnumerable<string>? more = null, string? hidden = null) =>
        Track(NodeProcess.StartNode(port, seeds, JournalFile, secret ?? Secret, config, withoutSharedVolume ? Shared : hidden, more, Program));

    /// <summary>
    /// A node that forms or joins the cluster through Cluster Bootstrap from <paramref name="contactPoints"/> (no
    /// seeds). Its contact points must look the same for 2 s, not the default 5, before the lowest forms a cluster:
    /// the list is fixed and every node is on this machine.
    /// </summary>
    public NodeProcess BootstrapNode(int port, int managementPort, string contactPoints)
    {
        var config = System.IO.Path.Combine(_temp.Path, "bootstrap.hocon");
        File.WriteAllText(config, "akka.management.cluster.bootstrap.contact-point-discovery.stable-margin = 2s\n");
        return Track(NodeProcess.StartNode(port, seeds: null, JournalFile, Secret, config,
            more: ["--discovery", "config", "--contact-points", contactPoints, "--management-port", managementPort.ToString()], program: Program));
    }

    /// <summary>A node with no secret at all, started with --insecure.</summary>
    public NodeProcess InsecureNode(int port, string seeds) =>
        Track(NodeProcess.StartNode(port, seeds, JournalFile, secret: null, more: ["--insecure"], program: Program));

    /// <summary>A client (submit, status, stop) with the cluster's secret.</summary>
    public NodeProcess Client(params string[] args) => Track(NodeProcess.StartClient(args, Program, ClientEnvironment));

    /// <summary>A client with the cluster's secret, run to its end.</summary>
    public CliResult Run(params string[] args) => CliProcess.Run(args, ClientEnvironment);

    public CliResult History(string workDir) => CliProcess.Run(["history", "--work-dir", workDir, "--journal", $"sqlite:{JournalFile}"]);

    public void Dispose()
    {
        foreach (var process in _processes)
        {
            process.Dispose();
        }
        _temp.Dispose();
    }

    private NodeProcess Track(NodeProcess process)
    {
        _processes.Add(process);
        return process;
    }
}
