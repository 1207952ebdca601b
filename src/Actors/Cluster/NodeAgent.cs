using Akka.Actor;
using Akka.Cluster;
using Orchestrator.Actors.Hosting;
using Orchestrator.Actors.Protocol;

namespace Orchestrator.Actors.Cluster;

/// <summary>
/// Every node's representative at <c>/user/node</c>: it answers the coordinator's challenge with the node's
/// credentials and devices, checks that the node sees a job's checkpoint directory, and tells the person at
/// the node's console when the cluster or a job turns the node away.
/// </summary>
public sealed class NodeAgent : ReceiveActor
{
    public const string Name = CheckDirectory.NodeAgentName;

    public NodeAgent(string[] devices, ClusterCredentials credentials, NodeOutcome outcome)
    {
        var joinedBy = Context.System.Settings.Config.GetString(ClusterSettings.JoinedByKey, null);
        Receive<Challenge>(challenge => Sender.Tell(credentials.Answer(challenge, devices, joinedBy)));
        Receive<CheckDirectory>(check => Sender.Tell(new DirectoryChecked(SelfAddress, check.Directory, SharedDirectory.Problem(check))));
        Receive<NodeRefused>(refused =>
        {
            outcome.Refuse(refused.Reason);
            OrchestratorLog.LastWords(Context.System, isError: true, $"the cluster refused this node: {refused.Reason}");
            Akka.Cluster.Cluster.Get(Context.System).Leave(Akka.Cluster.Cluster.Get(Context.System).SelfAddress);
        });
        Receive<NodeDeclined>(declined => OrchestratorLog.Warning(Context, $"job {declined.Job} will not place ranks on this node: {declined.Reason}"));
    }

    private string SelfAddress => Akka.Cluster.Cluster.Get(Context.System).SelfAddress.ToString();

    public static Props Props(string[] devices, ClusterCredentials credentials, NodeOutcome outcome) =>
        Akka.Actor.Props.Create(() => new NodeAgent(devices, credentials, outcome));
}

/// <summary>How a node process ended, for its exit code (set by the agent, read after the system stops).</summary>
public sealed class NodeOutcome
{
    private string? _refusal;

    public string? Refusal => Volatile.Read(ref _refusal);

    public void Refuse(string reason) => Volatile.Write(ref _refusal, reason);
}
