using System.Security.Cryptography;
using Akka.Actor;
using Orchestrator.Actors.Gradients;
using Orchestrator.Actors.Protocol;

namespace Orchestrator.Actors.Job.Ranks;

/// <summary>
/// The supervisor's side of the gradient ring: which ranks run in another process than the supervisor and
/// where each rank listens, and, once every rank of a generation is ready, each rank's next neighbour. The
/// supervisor only coordinates: steps start and end through it, failures are reported to it, gradients never
/// pass through it. Ranks that all share the supervisor's process keep averaging in its memory.
/// </summary>
internal sealed class RingFormation(IActorContext context)
{
    // One per job: only ranks told it by this supervisor (over Akka, encrypted where the cluster is) can join.
    private readonly string _token = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
    private string?[] _endpoints = [];
    private bool[] _remote = [];

    public bool Formed { get; private set; }

    public void Place(int world)
    {
        _endpoints = new string?[world];
        _remote = new bool[world];
        Formed = false;
    }

    public void Started(int rank, bool remote)
    {
        _remote[rank] = remote;
        _endpoints[rank] = null; // a new actor: its listener is another
        Formed = false;
    }

    public void Ready(int rank, string? endpoint)
    {
        if (rank >= 0 && rank < _endpoints.Length)
        {
            _endpoints[rank] = endpoint;
        }
    }

    /// <summary>True when the ring is formed (every rank told its neighbour).</summary>
    public bool Form(int generation, TimeSpan timeout, GradientWireType wire, IActorRef?[] ranks)
    {
        Formed = ranks.Length >= 2 && _remote.Any(r => r) && _endpoints.All(e => e is not null)
            && RingSettings.IsRing(context.System.Settings.Config);
        if (!Formed)
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
