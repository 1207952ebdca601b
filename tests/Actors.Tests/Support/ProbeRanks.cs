using System.Collections.Concurrent;
using Akka.Actor;
using Akka.TestKit;
using Orchestrator.Actors.Job;
using Orchestrator.Trainer.Distributed;

namespace Orchestrator.Actors.Tests.Support;

/// <summary>
/// Stand-ins for a job's ranks, made by the supervisor through its <see cref="RankProps"/> seam. Whatever the
/// supervisor tells a stand-in goes to the test probe of its rank index (one probe for every generation of
/// that rank, so a test reads one rank's whole story in order). The test answers as the rank would, by
/// replying to the probe's last sender: the stand-in passes the answer on to the supervisor as its own.
/// </summary>
/// <remarks>
/// The supervisor's decisions are tested this way without TorchSharp: a test plays every rank by hand,
/// including the late, lost and wrong answers that real ranks give only by accident.
/// </remarks>
public sealed class ProbeRanks
{
    private readonly TestProbe[] _probes;
    private readonly ConcurrentDictionary<string, RankSpec> _specs = new(StringComparer.Ordinal);

    /// <param name="mostRanks">The most ranks the job can have at once (a probe each).</param>
    public ProbeRanks(TestKitBase kit, int mostRanks)
    {
        _probes = Enumerable.Range(0, mostRanks).Select(rank => kit.CreateTestProbe($"rank-{rank}")).ToArray();
        Props = (spec, supervisor, _) => Akka.Actor.Props.Create(() => new ProbeRank(spec, supervisor, _probes[spec.Rank], _specs));
    }

    /// <summary>The seam to hand to <see cref="JobSupervisor.Props"/>.</summary>
    public RankProps Props { get; }

    public TestProbe this[int rank] => _probes[rank];

    /// <summary>The spec the supervisor made the stand-in called <paramref name="actorName"/> with (its world size, its rank).</summary>
    public RankSpec SpecOf(string actorName) => _specs[actorName];

    private sealed class ProbeRank : ReceiveActor
    {
        public ProbeRank(RankSpec spec, IActorRef supervisor, IActorRef probe, ConcurrentDictionary<string, RankSpec> specs)
        {
            // Recorded before the first message is handled, so a test that got one can look the spec up.
            specs[Self.Path.Name] = spec;
            // Asked through the stand-in that passed the test's last answer on, a status question reaches the
            // supervisor after that answer, never before it.
            Receive<AskStatusFor>(ask => supervisor.Tell(GetJobStatus.Instance, ask.Asker));
            ReceiveAny(message =>
            {
                if (Sender.Equals(supervisor))
                {
                    probe.Tell(message, Self);
                }
                else
                {
                    supervisor.Tell(message, Self);
                }
            });
        }
    }
}

/// <summary>Ask the supervisor for its status on behalf of <paramref name="Asker"/>, in order after what this stand-in passed on.</summary>
public sealed record AskStatusFor(IActorRef Asker);
