using Akka.Actor;
using Orchestrator.Actors.Cluster;
using Orchestrator.Actors.Rank;

namespace Orchestrator.Bench;

/// <summary>
/// Rank 1 of the gradient-sync rows: sends a step's chunks (through Akka.Remote, or on a gradient link as a
/// remote rank does) and answers once every average is back.
/// </summary>
internal sealed class GradientSyncPeer : ReceiveActor
{
    private readonly float[] _gradients;
    private readonly int _count;
    private readonly int _totalLength;
    private readonly GradientLinkAddress? _linkAddress;
    private GradientLinkClient? _link;
    private IActorRef _asker = ActorRefs.Nobody;
    private int _received;

    public GradientSyncPeer(ActorSelection reducer, int totalLength, GradientLinkAddress? link)
    {
        _linkAddress = link;
        _totalLength = totalLength;
        _gradients = GradientSyncProcess.GradientsOf(totalLength, seed: 1);
        _count = Chunking.CountFor(totalLength);
        Receive<RunStep>(run =>
        {
            _asker = Sender;
            _received = 0;
            for (var index = 0; index < _count; index++)
            {
                var chunk = new GradientChunk(0, 1, run.Step, index, _count, _totalLength, Chunking.Slice(_gradients, index), 0, 0);
                if (_link is { } open)
                {
                    open.Send(chunk);
                }
                else
                {
                    reducer.Tell(chunk, Self);
                }
            }
        });
        Receive<AveragedChunk>(averaged =>
        {
            if (++_received == _count)
            {
                _asker.Tell(new StepSynced(averaged.Step));
            }
        });
    }

    protected override void PreStart()
    {
        if (_linkAddress is not null)
        {
            _link = GradientLinkClient.Connect(_linkAddress, Self);
        }
    }

    protected override void PostStop() => _link?.Dispose();
}
