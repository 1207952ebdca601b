using Orchestrator.Actors.Job;

namespace Orchestrator.Actors.Cluster;

// Messages between nodes, the coordinator (a cluster singleton) and command-line clients. Plain data only:
// every one of them crosses the network.

/// <summary>From the coordinator to a node that just came up: prove you belong.</summary>
public sealed record Challenge(string Nonce);

/// <summary>
/// <paramref name="Proof"/> is HMAC-SHA256(secret, nonce); <paramref name="SettingKeys"/> the must-match settings;
/// <paramref name="JoinedBy"/> how the node found the cluster (seeds or bootstrap), for <c>status --cluster</c>.
/// </summary>
public sealed record ChallengeAnswer(string Proof, string[] SettingKeys, string[] SettingValues, string[] Devices, string? JoinedBy = null);

/// <summary>The cluster will not have this node (it is downed right after).</summary>
public sealed record NodeRefused(string Reason);

/// <summary>
/// Submit (or resubmit, to continue) a job; <paramref name="Proof"/> is HMAC-SHA256(secret, work dir).
/// <paramref name="Protocol"/> is the client's <see cref="WireProtocol.Version"/>: a spec written by another
/// version may carry fields this one drops. A client from before it was sent reads as 0.
/// </summary>
public sealed record SubmitJob(JobSpec Spec, string Proof, int Protocol = 0);

public sealed record SubmitAnswer(bool Accepted, string Message);

/// <summary>
/// Ask the coordinator for the cluster's nodes and jobs; <paramref name="Proof"/> is HMAC-SHA256(secret,
/// <see cref="ProofSubject"/>): work dirs, steps and losses are for holders of the secret only.
/// </summary>
public sealed record GetClusterStatus(string Proof)
{
    public const string ProofSubject = "cluster-status";
}

/// <summary>The answer to a <see cref="GetClusterStatus"/> that did not prove the secret.</summary>
public sealed record ClusterStatusRefused(string Reason);

public sealed record NodeStatus(string Address, string Status, string[] Devices, string? Problem, string? JoinedBy = null);

/// <summary>
/// <paramref name="Protocol"/> is the coordinator's <see cref="WireProtocol.Version"/> (0 from a build before it was sent);
/// <paramref name="Insecure"/> says the cluster runs without a secret (its nodes were started with --insecure).
/// </summary>
public sealed record ClusterStatus(NodeStatus[] Nodes, JobLiveStatus[] Jobs, int Protocol = 0, bool Insecure = false);

/// <summary>Stop a job with a final checkpoint, or move work off a node (checkpoint, then shrink).</summary>
public sealed record StopClusterJob(string WorkDir, string Proof);

public sealed record DrainNode(string HostPort, string Proof);

public sealed record ClusterCommandAnswer(bool Done, string Message);
