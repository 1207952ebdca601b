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

    /// <param name="hidden">A folder this node cannot see (an empty one in its place), as if not mounted there.</param>
    public NodeProcess Node(int port, string seeds, string? secret = null, string? config = null, bool withoutSharedVolume = false, IEnumerable<string>? more = null, string? hidden = null) =>
        Track(NodeProcess.StartNode(port, seeds, JournalFile, secret, config, withoutSharedVolume ? Shared : hidden, more, Program));

    public NodeProcess Client(params string[] args) => Track(NodeProcess.StartClient(args, Program));

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
