using Akka.Actor;
using Orchestrator.Actors.Job;
using Orchestrator.Actors.Rank;

namespace Orchestrator.Bench;

/// <summary>
/// The supervisor's side of a two-rank step: rank 0 is local (its chunks cost nothing to deliver), rank 1 is
/// in the other process. As the job supervisor does, it starts rank 1's step, averages each chunk that
/// arrives with its own GradientReduction and sends it back, and waits for rank 1's step end; all of it on
/// the gradient link (the supervisor's own GradientHub) or all of it as Akka messages.
/// </summary>
internal sealed class GradientSyncReducer : ReceiveActor
{
    private readonly float[] _localGradients;
    private readonly int _totalLength;
    private long _step = -1;
    private readonly GradientReduction _reduction = new(2, 0);
    private IActorRef _asker = ActorRefs.Nobody;

    public GradientSyncReducer(int totalLength, Func<GradientHub?> hub, string linkId)
    {
        _totalLength = totalLength;
        _localGradients = GradientSyncProcess.GradientsOf(totalLength, seed: 0);
        Receive<RunStep>(run =>
        {
            _asker = Sender;
            StartStep(run.Step);
            var compute = new ComputeGradients(0, run.Step, null);
            if (!(hub()?.TrySend(linkId, compute) ?? false))
            {
                run.Rank.Tell(compute);
            }
        });
        Receive<GradientChunk>(chunk =>
        {
            if (_reduction.Add(chunk) is { } averaged && !(hub()?.TrySend(linkId, averaged) ?? false))
            {
                Sender.Tell(averaged);
            }
        });
        Receive<StepApplied>(applied => _asker.Tell(new StepSynced(applied.Step)));
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
