using Orchestrator.Actors.Protocol;
using Orchestrator.Trainer.Jobs.Loading;

namespace Orchestrator.Actors.Job.Placement;

/// <summary>
/// What a job on a cluster knows of the nodes that may hold its ranks: the members the coordinator announced,
/// the ones being drained, and each node's answer to whether it sees the checkpoint directory (and can load the
/// job's code). A node that has not answered yet holds no ranks; one that comes back is checked again.
/// </summary>
internal sealed class ClusterMembership(string checkpointDirectory, JobAssemblyRef? jobAssembly)
{
    private NodeInfo[] _nodes = [];
    private string[] _draining = [];
    // Each node's answer (null: it sees the directory).
    private readonly Dictionary<string, string?> _directoryChecks = [];
    private (string Path, string Token)? _probe;

    public int PendingChecks => _nodes.Count(n => !_directoryChecks.ContainsKey(n.Address));

    /// <summary>Takes the coordinator's news; returns the check to send to each node not checked yet (the probe is written first).</summary>
    public IReadOnlyList<(string Node, CheckDirectory Check)> Changed(MembersChanged changed)
    {
        _nodes = changed.Nodes;
        _draining = changed.Draining;
        foreach (var gone in _directoryChecks.Keys.Where(node => !IsMember(node)).ToList())
        {
            _directoryChecks.Remove(gone); // checked again if it comes back
        }
        var checks = new List<(string, CheckDirectory)>();
        foreach (var node in _nodes.Where(n => !_directoryChecks.ContainsKey(n.Address)))
        {
            _probe ??= DirectoryProbe.Write(checkpointDirectory);
            checks.Add((node.Address, new CheckDirectory(checkpointDirectory, _probe.Value.Path, _probe.Value.Token, jobAssembly)));
        }
        return checks;
    }

    /// <summary>Records a node's answer; false when the node is no longer a member (the answer is ignored).</summary>
    public bool Checked(DirectoryChecked result)
    {
        if (!IsMember(result.Node))
        {
            return false;
        }
        _directoryChecks[result.Node] = result.Problem;
        return true;
    }

    /// <summary>A rank slot for every device of every member that passed its check.</summary>
    public List<RankSlot> UsableSlots() =>
        _nodes.Where(n => _directoryChecks.TryGetValue(n.Address, out var problem) && problem is null)
            .SelectMany(n => n.Devices.Select(device => new RankSlot(n.Address, device))).ToList();

    public IReadOnlyList<string> Members => _nodes.Select(n => n.Address).ToArray();

    public IReadOnlyList<string> Draining => _draining;

    private bool IsMember(string node) => _nodes.Any(n => n.Address == node);
}
