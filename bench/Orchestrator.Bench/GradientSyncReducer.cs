using Akka.Actor;
using Orchestrator.Actors.Job;
using Orchestrator.Actors.Rank;

namespace Orchestrator.Bench;

/// <summary>
/// The supervisor's side of a two-rank step: rank 0 is local (its chunks cost nothing to deliver), rank 1's
/// chunks arrive over the network (as Akka messages, or from the supervisor's own GradientHub), and each
/// chunk is averaged by the supervisor's own GradientReduction and sent back the way it came.
/// </summary>
internal sealed class GradientSyncReducer : ReceiveActor
{
    private readonly float[] _localGradients;
    private readonly int _totalLength;
    private long _step = -1;
    private readonly GradientReduction _reduction = new(2, 0);

    public GradientSyncReducer(int totalLength, Func<GradientHub?> hub, string linkId)
    {
        _totalLength = totalLength;
        _localGradients = GradientSyncProcess.GradientsOf(totalLength, seed: 0);
        Receive<GradientChunk>(chunk =>
        {
            if (chunk.Step != _step)
            {
                StartStep(chunk.Step);
            }
            if (_reduction.Add(chunk) is { } averaged && !(hub()?.TrySend(linkId, averaged) ?? false))
            {
                Sender.Tell(averaged);
            }
        });
    }

    public static Props Props(int totalLength, Func<GradientHub?> hub, string linkId) =>
        Akka.Actor.Props.Create(() => new GradientSyncReducer(totalLength, hub, linkId));

    private void StartStep(long step)
    {
        _step = step;
        _reduction.StartStep();
        var count = Chunking.CountFor(_totalLength);
        for (var index = 0; index < count; index++)
        {
            _reduction.Add(new GradientChunk(0, 0, step, index, count, _totalLength, Chunking.Slice(_localGradients, index), 0, 0));
        }
    }
}
