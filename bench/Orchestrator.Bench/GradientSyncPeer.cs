using Akka.Actor;
using Orchestrator.Actors.Rank;

namespace Orchestrator.Bench;

/// <summary>Rank 1 of the gradient-sync row: sends a step's chunks and answers once every average is back.</summary>
internal sealed class GradientSyncPeer : ReceiveActor
{
    private readonly float[][] _chunks;
    private readonly int _totalLength;
    private IActorRef _asker = ActorRefs.Nobody;
    private int _received;

    public GradientSyncPeer(ActorSelection reducer, int totalLength)
    {
        _totalLength = totalLength;
        _chunks = GradientSyncProcess.ChunksOf(totalLength, seed: 1);
        Receive<RunStep>(run =>
        {
            _asker = Sender;
            _received = 0;
            for (var index = 0; index < _chunks.Length; index++)
            {
                reducer.Tell(new GradientChunk(0, 1, run.Step, index, _chunks.Length, _totalLength, _chunks[index], 0, 0), Self);
            }
        });
        Receive<AveragedChunk>(averaged =>
        {
            if (++_received == _chunks.Length)
            {
                _asker.Tell(new StepSynced(averaged.Step));
            }
        });
    }
}
