using Orchestrator.Trainer.Jobs.Loading;

namespace Orchestrator.Actors.Protocol;

// Where a job's ranks may run: between the cluster's coordinator, a job's supervisor and every node's agent.
// Plain data only: every one of them crosses the network.

/// <summary>
/// A node that proved the cluster secret and the shared settings, with the devices it offers and how it found
/// the cluster (<see cref="Cluster.ClusterJoin.Describe"/>; null from a node that does not say).
/// </summary>
public sealed record NodeInfo(string Address, string[] Devices, string? JoinedBy = null);

/// <summary>
/// From a job to a node: can you read the probe file the job wrote in its checkpoint directory, and load the
/// job's assembly (<paramref name="JobAssembly"/>, null for a built-in job) with the hash it was submitted with?
/// </summary>
public sealed record CheckDirectory(string Directory, string ProbeFile, string Token, JobAssemblyRef? JobAssembly = null)
{
    /// <summary>The name of the actor every node runs at <c>/user/</c> that answers this check.</summary>
    public const string NodeAgentName = "node";
}

public sealed record DirectoryChecked(string Node, string Directory, string? Problem);

/// <summary>A job will not place ranks on this node, and why (the node prints it).</summary>
public sealed record NodeDeclined(string Job, string Reason);

/// <summary>
/// From the coordinator to its jobs: the nodes that may hold ranks now (verified, reachable, not draining),
/// and the nodes being drained (still up, but their ranks must move off at a checkpoint).
/// </summary>
public sealed record MembersChanged(NodeInfo[] Nodes, string[] Draining);
