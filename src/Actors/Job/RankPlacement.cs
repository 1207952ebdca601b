using Akka.Actor;

namespace Orchestrator.Actors.Job;

/// <summary>One device on one node that can hold a rank; <paramref name="Node"/> is null in a single process.</summary>
public sealed record RankSlot(string? Node, string Device);

/// <summary>
/// Where a job's ranks run: all in this process (the <c>train</c> command), or on the cluster's nodes, each
/// rank deployed remotely onto the node that offers its device.
/// </summary>
public sealed record RankPlacement(string? SelfAddress)
{
    public static RankPlacement Local { get; } = new((string?)null);

    public bool IsCluster => SelfAddress is not null;

    public static RankPlacement Cluster(string selfAddress) => new(selfAddress);

    public Deploy DeployFor(RankSlot slot) =>
        slot.Node is null || slot.Node == SelfAddress ? Deploy.Local : new Deploy(new RemoteScope(Address.Parse(slot.Node)));
}

/// <summary>
/// The world sizes a job accepts: between its minimum and maximum ranks, and dividing its global batch
/// (every rank takes an equal slice, so the global batch, and with it the learning dynamics, stays the same
/// whatever the world size).
/// </summary>
public sealed record WorldSizing(int MinRanks, int MaxRanks, int? GlobalBatch)
{
    public int? SizeFor(int availableSlots)
    {
        for (var size = Math.Min(availableSlots, MaxRanks); size >= MinRanks; size--)
        {
            if (GlobalBatch is not { } batch || batch % size == 0)
            {
                return size;
            }
        }
        return null;
    }

    public string WhyNot(int availableSlots) => availableSlots < MinRanks
        ? $"waiting for ranks: {availableSlots} device(s) available, the job needs at least {MinRanks} (--min-ranks)"
        : $"waiting for ranks: no world size between {MinRanks} and {Math.Min(availableSlots, MaxRanks)} divides the global batch of {GlobalBatch}";
}
