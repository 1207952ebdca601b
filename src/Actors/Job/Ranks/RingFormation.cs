using System.Security.Cryptography;
using Akka.Actor;
using Orchestrator.Actors.Gradients;
using Orchestrator.Actors.Protocol;

namespace Orchestrator.Actors.Job.Ranks;

/// <summary>
/// The supervisor's side of the gradient ring: which ranks run in another process than the supervisor and
/// where each rank listens, and, once every rank of a generation is ready, each rank's next neighbour. The
/// supervisor only coordinates: steps start and end through it, failures are reported to it, gradients never
/// pass through it. Ranks that all share the supervisor's process average in its memory, each on its own
/// thread (<see cref="SharedAllReduce"/>), in the ring's order.
/// </summary>
internal sealed class RingFormation(IActorContext context)
{
    // One per job: only ranks told it by this supervisor (over Akka, encrypted where the cluster is) can join.
    private readonly string _token = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
    private string?[] _endpoints = [];
    private bool[] _remote = [];

    /// <summary>Whether this generation's ranks average among themselves (around a ring or in shared memory).</summary>
    public bool Formed => Ring || Shared is not null;

    /// <summary>Whether this generation's ranks average around a ring of links.</summary>
    public bool Ring { get; private set; }

    /// <summary>The all-reduce in this process's memory of this generation's ranks, when all of them run here.</summary>
    public SharedAllReduce? Shared { get; private set; }

    public void Place(int world)
    {
        _endpoints = new string?[world];
        _remote = new bool[world];
        Forget();
    }

    public void Started(int rank, bool remote)
    {
        _remote[rank] = remote;
        _endpoints[rank] = null; // a new actor: its listener is another
        Forget();
    }

    /// <summary>A generation is over: its ranks' waits in a shared all-reduce end now.</summary>
    public void Forget()
    {
        Shared?.Abort();
        Shared = null;
        Ring = false;
    }

    public void Ready(int rank, string? endpoint)
    {
        if (rank >= 0 && rank < _endpoints.Length)
        {
            _endpoints[rank] = endpoint;
        }
    }

    /// <summary>
    /// True when the ring is formed (every rank told its neighbour). Ranks that all run in this process are
    /// given a shared all-reduce instead (false): a waiting rank gives up after <paramref name="timeout"/>
    /// only as a backstop, since the supervisor's own step timeout names a hung rank first.
    /// </summary>
    public bool Form(int generation, TimeSpan timeout, GradientWireType wire, IActorRef?[] ranks)
    {
        Forget();
        if (ranks.Length < 2 || !RingSettings.IsRing(context.System.Settings.Config))
        {
            return false;
        }
        if (!_remote.Any(r => r))
        {
            Shared = new SharedAllReduce(ranks.Length, generation, timeout * 2, wire);
            foreach (var rank in ranks)
            {
                rank!.Tell(new UseSharedReduction(Shared));
            }
            return false;
        }
        Ring = _endpoints.All(e => e is not null);
        if (!Ring)
        {
            return false;
        }
        for (var rank = 0; rank < ranks.Length; rank++)
        {
            ranks[rank]!.Tell(new JoinRing(generation, _endpoints[(rank + 1) % ranks.Length]!, _token, timeout.TotalSeconds, wire));
        }
        return true;
    }
}
