using System.Runtime.ExceptionServices;
using Akka.Actor;
using Orchestrator.Actors.Job.Placement;
using Orchestrator.Actors.Protocol;

namespace Orchestrator.Actors.Job;

// Placement: how many ranks, on which slots, and what a change of the usable slots means for ranks that
// run. Which slots are usable is the placement watch's to know (Placement/PlacementWatch, a child): this
// passes the coordinator's news on to it and decides from its answers.
public sealed partial class JobSupervisor
{
    private readonly RankPlacement _placement;
    private readonly WorldSizing _sizing;
    private IActorRef _placementWatch = ActorRefs.Nobody;
    private SlotsChanged _slots = SlotsChanged.None;
    // MembersChanged passed on to the watch and not answered yet: until they are, a start does not know
    // what they hold, so it waits for them rather than start small (or note a wait that is already over).
    private int _membersNewsOut;
    private int _world;
    private RankSlot[] _placedOn = [];
    private bool _resizePending;
    // Why the job waits for ranks, or why it failed (status --cluster shows it).
    private string? _why;

    private void StartAll(StartRank start)
    {
        // Nodes still answering the directory check may add ranks: wait a moment rather than start small and grow.
        if (_placement.IsCluster && (_slots.AwaitingChecks || _membersNewsOut > 0))
        {
            _ranks.Clear();
            Enter(SupervisorPhase.WaitingForRanks, () => WaitingForRanks(start));
            return;
        }
        var slots = UsableSlots();
        if (_sizing.SizeFor(slots.Count) is not { } world || !_placement.IsCluster && slots.Count < _requested.Ranks)
        {
            var why = _sizing.WhyNot(slots.Count);
            if (why != _why)
            {
                Note(why);
            }
            _why = why;
            _ranks.Clear();
            Enter(SupervisorPhase.WaitingForRanks, () => WaitingForRanks(start));
            return;
        }
        _why = null;
        _world = _placement.IsCluster ? world : _requested.Ranks;
        _placedOn = slots.Take(_world).ToArray();
        _ranks.Place(_world);
        StartRanks(Enumerable.Range(0, _world).ToList(), start, reloadOthersFrom: null);
    }

    private bool HoldsDrainingNode => _placedOn.Any(slot => _slots.IsDraining(slot.Node));

    private IReadOnlyList<RankSlot> UsableSlots() => _placement.IsCluster
        ? _slots.Usable
        : Enumerable.Repeat(new RankSlot(null, _requested.JobOptions.Device), _requested.Ranks).ToList();

    /// <summary>Whether a failed rank can come back where it was, in a world of the same size (always, in one process).</summary>
    private bool SlotKept(int rank) =>
        !_placement.IsCluster || (_placedOn.Length > rank && UsableSlots().Contains(_placedOn[rank]) && _sizing.SizeFor(UsableSlots().Count) == _world);

    /// <summary>The handlers every phase but Discovering has for placement: the news passed on, the watch's answers taken in.</summary>
    private void PlacementNews(Action afterSlotsChanged)
    {
        PassOnClusterNews();
        Command<SlotsChanged>(changed =>
        {
            TakeIn(changed);
            afterSlotsChanged();
        });
        Command<NodeCannotTakeRanks>(declined => Note($"node {declined.Node} cannot take ranks: {declined.Problem}"));
        Command<PlacementFailed>(failed => ExceptionDispatchInfo.Throw(failed.Cause)); // ends the job (PreRestart)
    }

    /// <summary>
    /// The coordinator's news, and a node's answer that reached this actor, go to the watch in every phase,
    /// while discovering too: it checks new nodes meanwhile, and its answers wait in the stash.
    /// </summary>
    private void PassOnClusterNews()
    {
        Command<MembersChanged>(changed =>
        {
            _membersNewsOut++;
            PlacementWatchRef().Tell(changed);
        });
        Command<DirectoryChecked>(result => PlacementWatchRef().Forward(result));
    }

    private void TakeIn(SlotsChanged changed)
    {
        if (changed.AnswersMembersChanged)
        {
            _membersNewsOut--;
        }
        _slots = changed;
    }

    // Made on the first news: a job in one process that never hears from a cluster has no watch.
    private IActorRef PlacementWatchRef()
    {
        if (_placementWatch.IsNobody())
        {
            _placementWatch = Context.ActorOf(PlacementWatch.Props(_requested), "placement");
        }
        return _placementWatch;
    }

    /// <summary>While ranks run: a lost node fails its ranks now; a drained node or a new one resizes the job at a checkpoint.</summary>
    private void ReactToPlacement()
    {
        if (!_placement.IsCluster || _ranks.Count == 0 || !_phase.RanksRun())
        {
            return;
        }
        var usable = UsableSlots();
        for (var rank = 0; rank < _placedOn.Length; rank++)
        {
            var node = _placedOn[rank].Node;
            if (_slots.IsDraining(node))
            {
                _resizePending = true;
            }
            else if (!_slots.IsMember(node))
            {
                Fail(rank, $"node {node} holding rank {rank} is unreachable or left the cluster");
                return;
            }
        }
        if (_sizing.SizeFor(usable.Count) is { } size && size > _world)
        {
            _resizePending = true;
        }
    }
}
