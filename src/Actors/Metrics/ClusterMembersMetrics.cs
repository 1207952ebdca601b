using Akka.Actor;
using Akka.Cluster;
using Prometheus;

namespace Orchestrator.Actors.Metrics;

/// <summary>
/// Keeps <c>orchestrator_cluster_members{status}</c> in step with this node's view of the cluster: members by
/// status (joining, up, leaving, ...) and, as status "unreachable", those the failure detector suspects.
/// </summary>
public sealed class ClusterMembersMetrics : ReceiveActor
{
    private static readonly Gauge Members = Prometheus.Metrics.CreateGauge(
        "orchestrator_cluster_members", "Cluster members seen by this node, by status; 'unreachable' counts suspected members.", "status");

    private static readonly string[] Statuses = [.. Enum.GetNames<MemberStatus>().Select(Label), "unreachable"];

    public ClusterMembersMetrics()
    {
        var cluster = Akka.Cluster.Cluster.Get(Context.System);
        ReceiveAny(_ => Update(cluster.State));
    }

    public static Props Props() => Akka.Actor.Props.Create(() => new ClusterMembersMetrics());

    protected override void PreStart() => Akka.Cluster.Cluster.Get(Context.System).Subscribe(
        Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents, typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.IReachabilityEvent));

    protected override void PostStop() => Akka.Cluster.Cluster.Get(Context.System).Unsubscribe(Self);

    private static void Update(ClusterEvent.CurrentClusterState state)
    {
        var counts = state.Members.GroupBy(m => Label(m.Status.ToString())).ToDictionary(g => g.Key, g => g.Count());
        counts["unreachable"] = state.Unreachable.Count;
        foreach (var status in Statuses)
        {
            Members.WithLabels(status).Set(counts.GetValueOrDefault(status));
        }
    }

    // WeaklyUp -> weakly-up, the way Akka writes statuses in its own logs and HOCON.
    private static string Label(string status) => string.Concat(status.Select((c, i) => char.IsUpper(c) ? (i > 0 ? "-" : "") + char.ToLowerInvariant(c) : c.ToString()));
}
