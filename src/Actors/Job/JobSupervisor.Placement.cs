using Akka.Actor;
using Orchestrator.Actors.Job.Placement;
using Orchestrator.Actors.Protocol;

namespace Orchestrator.Actors.Job;

// Placement: how many ranks, on which nodes (waits on a cluster until enough devices are there), and what a
// change of the cluster's members means for ranks that run.
public sealed partial class JobSupervisor
{
    private readonly RankPlacement _placement;
    private readonly ClusterMembership _members;
    private readonly WorldSizing _sizing;
    private int _world;
    private RankSlot[] _placedOn = [];
    private bool _resizePending;
    // Why the job waits for ranks, or why it failed (status --cluster shows it).
    private string? _why;

    private void StartAll(StartRank start)
    {
        // Nodes still answering the directory check may add ranks: wait a moment rather than start small and grow.
        if (_placement.IsCluster && _members.PendingChecks > 0 && _clock.Elapsed < _members.ChecksDeadline)
        {
            _ranks.Clear();
            Timers.StartSingleTimer(PhaseTimer, new RetryPlacement(_generation), _members.ChecksDeadline - _clock.Elapsed);
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

    private bool HoldsDrainingNode => _placedOn.Any(slot => _members.IsDraining(slot.Node));

    private List<RankSlot> UsableSlots() => _placement.IsCluster
        ? _members.UsableSlots()
        : Enumerable.Repeat(new RankSlot(null, _requested.JobOptions.Device), _requested.Ranks).ToList();

    /// <summary>Whether a failed rank can come back where it was, in a world of the same size (always, in one process).</summary>
    private bool SlotKept(int rank) =>
        !_placement.IsCluster || (_placedOn.Length > rank && UsableSlots().Contains(_placedOn[rank]) && _sizing.SizeFor(UsableSlots().Count) == _world);

    private void Membership(MembersChanged changed)
    {
        foreach (var (node, check) in _members.Changed(changed, _clock.Elapsed))
        {
            Context.ActorSelection($"{node}/user/{CheckDirectory.NodeAgentName}").Tell(check);
        }
        ReactToPlacement();
    }

    private void DirectoryResult(DirectoryChecked result)
    {
        if (!_members.Checked(result))
        {
            return;
        }
        if (result.Problem is not null)
        {
            Note($"node {result.Node} cannot take ranks: {result.Problem}");
            Sender.Tell(new NodeDeclined(_requested.Job, result.Problem));
        }
        ReactToPlacement();
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
            if (_members.IsDraining(node))
            {
                _resizePending = true;
            }
            else if (!_members.IsMember(node))
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
