using Akka.Actor;
using Akka.Cluster;
using Prometheus;

namespace Orchestrator.Actors.Metrics;

/// <summary>
/// Keeps <c>orchestrator_cluster_members{status}</c> in step with this node's view of the cluster: members by
/// status (joining, up, leaving, ...) and, as status "unreachable", those the failure detector suspects.
/// The view is built from the events themselves: <c>Cluster.State</c> is updated by another subscriber and
/// may not have seen an event yet when this actor receives it.
/// </summary>
public sealed class ClusterMembersMetrics : ReceiveActor
{
    private static readonly Gauge Members = Prometheus.Metrics.CreateGauge(
        "orchestrator_cluster_members", "Cluster members seen by this node, by status; 'unreachable' counts suspected members.", "status");

    private static readonly string[] Statuses = [.. Enum.GetNames<MemberStatus>().Select(Label), "unreachable"];

    private readonly Dictionary<UniqueAddress, MemberStatus> _members = [];
    private readonly HashSet<UniqueAddress> _unreachable = [];

    public ClusterMembersMetrics()
    {
        Receive<ClusterEvent.MemberRemoved>(removed =>
        {
            _members.Remove(removed.Member.UniqueAddress);
            _unreachable.Remove(removed.Member.UniqueAddress);
            Publish();
        });
        Receive<ClusterEvent.IMemberEvent>(changed =>
        {
            _members[changed.Member.UniqueAddress] = changed.Member.Status;
            Publish();
        });
        Receive<ClusterEvent.UnreachableMember>(unreachable =>
        {
            _unreachable.Add(unreachable.Member.UniqueAddress);
            Publish();
        });
        Receive<ClusterEvent.ReachableMember>(reachable =>
        {
            _unreachable.Remove(reachable.Member.UniqueAddress);
            Publish();
        });
    }

    public static Props Props() => Akka.Actor.Props.Create(() => new ClusterMembersMetrics());

    protected override void PreStart() => Akka.Cluster.Cluster.Get(Context.System).Subscribe(
        Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents, typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.IReachabilityEvent));

    protected override void PostStop() => Akka.Cluster.Cluster.Get(Context.System).Unsubscribe(Self);

    private void Publish()
    {
        var counts = _members.Values.GroupBy(status => Label(status.ToString())).ToDictionary(g => g.Key, g => g.Count());
        counts["unreachable"] = _unreachable.Count;
        foreach (var status in Statuses)
        {
            Members.WithLabels(status).Set(counts.GetValueOrDefault(status));
        }
    }

    // WeaklyUp -> weakly-up, the way Akka writes statuses in its own logs and HOCON.
    private static string Label(string status) => string.Concat(status.Select((c, i) => char.IsUpper(c) ? (i > 0 ? "-" : "") + char.ToLowerInvariant(c) : c.ToString()));
}
