namespace Orchestrator.Actors.Cluster;

/// <summary>
/// The version of everything nodes and clients of one cluster must read alike: the messages between them,
/// the gradient link's frames and how gradients are cut into chunks. It is fixed in code, not in a config
/// file, so that a node of another build cannot claim it; a node or a submit that speaks another one is
/// refused with both versions named, instead of failing later on a chunk that does not fit.
/// </summary>
public static class WireProtocol
{
    /// <summary>
    /// Bump it with any change those parts see; tests/Actors.Tests/Cluster/WireContractTests.cs pins them
    /// to this number. 4: step start and end on the gradient link, chunks of at least two halves. 5: a job
    /// names its assembly (path and SHA-256) and arguments; the directory check carries the assembly; a step
    /// end says when the job asked for a checkpoint. 6: a status query proves the cluster secret (and is
    /// answered with a refusal without it); a status says whether the cluster runs without a secret; a rank's
    /// failure says when the disk was full, and names the checkpoint it refused to start from; the status
    /// carries the job's interruptions.
    /// </summary>
    public const int Version = 7;

    /// <summary>The setting under which a node's answer to the coordinator's challenge carries it (so did protocol 3's).</summary>
    public const string SettingKey = "orchestrator.cluster.protocol";

    /// <summary>Why <paramref name="who"/> is refused; <paramref name="theirs"/> null for a build that sends no protocol.</summary>
    public static string Mismatch(string who, string? theirs) =>
        (theirs is null ? $"{who} speaks an older wire protocol than the cluster's {Version}" : $"{who} speaks wire protocol {theirs} but the cluster speaks {Version}")
        + ": its orchestrator is another version (run the same orchestrator version on every node and client)";

    /// <summary>
    /// Null when a cluster whose status says <paramref name="protocol"/> speaks this one; otherwise why a
    /// client of this version must not act on it (a status from before the protocol was sent reads as 0).
    /// </summary>
    public static string? ClusterProblem(int protocol) => protocol == Version ? null
        : (protocol == 0 ? $"the cluster speaks an older wire protocol than this orchestrator's {Version}" : $"the cluster speaks wire protocol {protocol} but this orchestrator speaks {Version}")
          + ": its nodes run another orchestrator version (run the same orchestrator version on every node and client)";
}
