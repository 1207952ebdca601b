using Akka.Actor;
using Orchestrator.Actors.Cluster;
using Orchestrator.Actors.Protocol;

namespace Orchestrator.Actors.Job;

// Placement: how many ranks, on which nodes (waits on a cluster until enough devices are there), and what a
// change of the cluster's members means for ranks that run.
public sealed partial class JobSupervisor
{
    private static readonly TimeSpan DirectoryCheckWait = TimeSpan.FromSeconds(5);

    private readonly RankPlacement _placement;
    private readonly WorldSizing _sizing;
    private int _world;
    private RankSlot[] _placedOn = [];
    private NodeInfo[] _nodes = [];
    private string[] _draining = [];
    // Each node's answer to whether it sees the checkpoint directory (null: it does).
    private readonly Dictionary<string, string?> _directoryChecks = [];
    private (string Path, string Token)? _probe;
    private TimeSpan _checksDeadline;
    private bool _resizePending;
    // Why the job waits for ranks, or why it failed (status --cluster shows it).
    private string? _why;

    private void StartAll(StartRank start)
    {
        // Nodes still answering the directory check may add ranks: wait a moment rather than start small and grow.
        var pending = _nodes.Count(n => !_directoryChecks.ContainsKey(n.Address));
        if (_placement.IsCluster && pending > 0 && _clock.Elapsed < _checksDeadline)
        {
            _ranks.Clear();
            Timers.StartSingleTimer(PhaseTimer, new RetryPlacement(_generation), _checksDeadline - _clock.Elapsed);
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

    private bool HoldsDrainingNode => _placedOn.Any(slot => _draining.Contains(slot.Node));

    private List<RankSlot> UsableSlots() => _placement.IsCluster
        ? _nodes.Where(n => _directoryChecks.TryGetValue(n.Address, out var problem) && problem is null)
            .SelectMany(n => n.Devices.Select(device => new RankSlot(n.Address, device))).ToList()
        : Enumerable.Repeat(new RankSlot(null, _requested.JobOptions.Device), _requested.Ranks).ToList();

    /// <summary>Whether a failed rank can come back where it was, in a world of the same size (always, in one process).</summary>
    private bool SlotKept(int rank) =>
        !_placement.IsCluster || (_placedOn.Length > rank && UsableSlots().Contains(_placedOn[rank]) && _sizing.SizeFor(UsableSlots().Count) == _world);

    private void Membership(MembersChanged changed)
    {
        _nodes = changed.Nodes;
        _draining = changed.Draining;
        foreach (var gone in _directoryChecks.Keys.Where(node => _nodes.All(n => n.Address != node)).ToList())
        {
            _directoryChecks.Remove(gone); // checked again if it comes back
        }
        foreach (var node in _nodes.Where(n => !_directoryChecks.ContainsKey(n.Address)))
        {
            _checksDeadline = _clock.Elapsed + DirectoryCheckWait;
            _probe ??= SharedDirectory.WriteProbe(_requested.CheckpointDirectory);
            Context.ActorSelection($"{node.Address}/user/{NodeAgent.Name}").Tell(new CheckDirectory(_requested.CheckpointDirectory, _probe.Value.Path, _probe.Value.Token, _requested.JobAssembly));
        }
        ReactToPlacement();
    }

    private void DirectoryResult(DirectoryChecked result)
    {
        if (_nodes.All(n => n.Address != result.Node))
        {
            return;
        }
        _directoryChecks[result.Node] = result.Problem;
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
            if (_draining.Contains(node))
            {
                _resizePending = true;
            }
            else if (_nodes.All(n => n.Address != node))
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
