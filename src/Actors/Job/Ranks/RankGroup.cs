using Akka.Actor;
using Orchestrator.Actors.Gradients;
using Orchestrator.Actors.Protocol;
using Orchestrator.Trainer.Distributed;

namespace Orchestrator.Actors.Job.Ranks;

/// <summary>
/// The rank actors of one job, as their supervisor holds them: creates and watches them, sends them the
/// step's messages (over a rank's own gradient link where it has one, by Akka otherwise), and stops them.
/// Used only on the supervisor's thread, with its context.
/// </summary>
internal sealed class RankGroup(IActorContext context, RankProps rankProps)
{
    private IActorRef?[] _ranks = [];
    // The gradient link of each rank on another node (null: the rank is here, or links are off).
    private string?[] _linkIds = [];
    private GradientHub? _hub;
    private readonly RingFormation _ring = new(context);

    /// <summary>The world size the ranks were placed for; 0 while none are.</summary>
    public int Count => _ranks.Length;

    /// <summary>No ranks placed (waiting for devices).</summary>
    public void Clear()
    {
        _ranks = [];
        _linkIds = [];
        _ring.Place(0);
    }

    /// <summary>Room for a world of <paramref name="world"/> ranks, none started yet.</summary>
    public void Place(int world)
    {
        _ranks = new IActorRef?[world];
        _linkIds = new string?[world];
        _ring.Place(world);
    }

    /// <summary>
    /// Creates rank <paramref name="rank"/> where <paramref name="deploy"/> says, with its own gradient link
    /// when it runs on another node and <paramref name="links"/> offers a hub, and tells it to start.
    /// </summary>
    public void Start(int rank, RankSpec spec, string name, Deploy deploy, Func<GradientHub?> links, StartRank start)
    {
        GradientLinkAddress? link = null;
        if (deploy.Scope is RemoteScope && links() is { } hub)
        {
            _hub = hub;
            link = hub.AddressFor(name);
        }
        _linkIds[rank] = link?.LinkId;
        _ring.Started(rank, remote: deploy.Scope is RemoteScope);
        var actor = context.ActorOf(rankProps(spec, context.Self, link).WithDeploy(deploy), name);
        _ranks[rank] = actor;
        // A rank on another node ends when that node dies: the watch turns that into a rank failure.
        context.Watch(actor);
        actor.Tell(start);
    }

    public void Tell(int rank, object message) => _ranks[rank]!.Tell(message);

    public void TellAll(object message)
    {
        foreach (var rank in _ranks)
        {
            rank!.Tell(message);
        }
    }

    /// <summary>
    /// A remote rank's step starts on its gradient link, like the rest of the step: Akka.Remote's hop cost as
    /// much as a megabyte of gradients. Order holds: each rank gets a step's start after the last step's
    /// every average, on the same link (or by Akka, for every message of a local rank).
    /// </summary>
    public void SendCompute(int rank, ComputeGradients compute)
    {
        // In a ring the start goes by Akka, behind the JoinRing it needs: the two must not pass each other.
        if (_ring.Formed || _linkIds[rank] is not { } link || _hub is null || !_hub.TrySend(link, compute))
        {
            _ranks[rank]!.Tell(compute);
        }
    }

    /// <summary>An averaged chunk to every rank, each over its own link where it has one.</summary>
    public void SendAveraged(AveragedChunk averaged)
    {
        for (var rank = 0; rank < _ranks.Length; rank++)
        {
            if (_linkIds[rank] is not { } link || _hub is null || !_hub.TrySend(link, averaged))
            {
                _ranks[rank]!.Tell(averaged);
            }
        }
    }

    /// <summary>Rank <paramref name="rank"/> answered ready, with where it takes its ring link (null: nowhere).</summary>
    public void Ready(int rank, string? ringEndpoint) => _ring.Ready(rank, ringEndpoint);

    /// <summary>
    /// Tells every rank its ring neighbour when the ranks span processes and all of them listen for the ring;
    /// otherwise the gradients come to this supervisor as before. Once every rank of a generation is ready.
    /// </summary>
    public bool FormRing(int generation, TimeSpan timeout, GradientWireType wire) => _ring.Form(generation, timeout, wire, _ranks);

    /// <summary>Whether this generation's gradients are averaged among the ranks, never through the supervisor.</summary>
    public bool InRing => _ring.Formed;

    /// <summary>Whether this generation's gradients go around a ring of links (ranks on several nodes).</summary>
    public bool AroundRing => _ring.Ring;

    /// <summary>The ranks in this process that published their gradients of <paramref name="step"/> to each other.</summary>
    public IEnumerable<int> SharedGradientsPublished(long step) => _ring.Shared?.PublishedFor(step) ?? [];

    /// <summary>The rank <paramref name="actor"/> is, or -1 when it is none of this group's current ones.</summary>
    public int IndexOf(IActorRef actor) => Array.IndexOf(_ranks, actor);

    /// <summary>Stops <paramref name="ranks"/>, unwatched first: their end is asked for, not a failure.</summary>
    public void Stop(IEnumerable<int> ranks)
    {
        foreach (var rank in ranks)
        {
            if (_ranks.Length > rank && _ranks[rank] is { } actor)
            {
                context.Unwatch(actor);
                context.Stop(actor);
            }
        }
    }

    public void StopAll() => Stop(Enumerable.Range(0, _ranks.Length));
}
