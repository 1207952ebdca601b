using Akka.Actor;
using Orchestrator.Actors.Gradients;
using Orchestrator.Actors.Protocol;

namespace Orchestrator.Actors.Rank;

/// <summary>
/// A rank's part in the gradient ring: the listener it opens at start (its address goes to the supervisor in
/// its ready answer) and the ring of the current generation once the supervisor has told it its neighbour.
/// The member is made and used on the rank thread; the actor only aborts it.
/// </summary>
internal sealed class RankRing : IDisposable
{
    private readonly RingListener _listener;
    private readonly GradientLinkTls? _tls;
    private readonly int _rank;
    private readonly int _world;
    private RingMember? _member;

    private RankRing(RingListener listener, GradientLinkTls? tls, int rank, int world)
    {
        _listener = listener;
        _tls = tls;
        _rank = rank;
        _world = world;
    }

    /// <summary>
    /// A ring listener for a rank of a cluster whose gradients go around a ring
    /// (<c>orchestrator.cluster.gradient-collective = ring</c> with <c>gradient-link = on</c>); null otherwise.
    /// </summary>
    public static RankRing? OpenFor(ActorSystem system, int rank, int world)
    {
        var config = system.Settings.Config;
        if (world < 2 || !config.GetBoolean("orchestrator.cluster.gradient-link", false) || !RingSettings.IsRing(config)
            || ((ExtendedActorSystem)system).Provider is not Akka.Cluster.ClusterActorRefProvider)
        {
            return null;
        }
        var tls = GradientLinkTls.FromConfig(config);
        return new RankRing(new RingListener(Akka.Cluster.Cluster.Get(system).SelfAddress.Host!, tls), tls, rank, world)
        {
            ClosedLinkGrace = config.GetTimeSpan("akka.cluster.failure-detector.acceptable-heartbeat-pause", TimeSpan.FromSeconds(3))
                + config.GetTimeSpan("akka.cluster.split-brain-resolver.stable-after", TimeSpan.FromSeconds(5)) + TimeSpan.FromSeconds(5),
        };
    }

    public string Endpoint => _listener.Endpoint;

    /// <summary>
    /// How long a closed ring link waits before it is told as a failure: long enough for the cluster to find a
    /// dead node unreachable and down it (then the supervisor restarts without it, as it does today).
    /// </summary>
    public TimeSpan ClosedLinkGrace { get; private init; }

    /// <summary>The ring of <paramref name="generation"/>, when this rank has joined it (rank thread).</summary>
    public RingMember? For(int generation) => _member is { } member && member.Generation == generation ? member : null;

    /// <summary>Ends the step of an older ring in progress (actor thread): a newer generation has begun.</summary>
    public void Abort() => Volatile.Read(ref _member)?.Abort();

    /// <summary>Leaves the old ring and joins <paramref name="join"/>'s (rank thread).</summary>
    public void Join(JoinRing join, CancellationToken cancel)
    {
        Volatile.Read(ref _member)?.Dispose();
        Volatile.Write(ref _member, null);
        var ring = new RingJoin(join.Token, join.Generation, _rank, _world, join.NextEndpoint, TimeSpan.FromSeconds(join.TimeoutSeconds), join.WireType);
        Volatile.Write(ref _member, RingMember.Join(_listener, ring, _tls, cancel));
    }

    public void Dispose()
    {
        _listener.Dispose();
        Volatile.Read(ref _member)?.Dispose();
    }
}
