using Akka.Actor;
using Orchestrator.Actors.Gradients;
using Orchestrator.Actors.Job;
using Orchestrator.Actors.Protocol;

namespace Orchestrator.Bench;

/// <summary>
/// The supervisor's side of a two-rank step: rank 0 is local (its chunks cost nothing to deliver), rank 1 is
/// in the other process. As the job supervisor does, it starts rank 1's step, averages each chunk that
/// arrives with its own GradientReduction and sends it back, starts the next step as the last average leaves,
/// and counts rank 1's step ends; all of it on the gradient link (the supervisor's own GradientHub) or all of
/// it as Akka messages. It answers once the asked steps are applied.
/// </summary>
internal sealed class GradientSyncReducer : ReceiveActor
{
    private readonly float[] _localGradients;
    private readonly int _totalLength;
    private readonly GradientReduction _reduction = new(2, 0);
    private readonly Func<GradientHub?> _hub;
    private readonly string _linkId;
    private IActorRef _rank = ActorRefs.Nobody;
    private IActorRef _asker = ActorRefs.Nobody;
    private long _through;
    private int _averaged;

    public GradientSyncReducer(int totalLength, Func<GradientHub?> hub, string linkId)
    {
        _totalLength = totalLength;
        _hub = hub;
        _linkId = linkId;
        _localGradients = GradientSyncProcess.GradientsOf(totalLength, seed: 0);
        Receive<RunSteps>(run =>
        {
            _asker = Sender;
            _rank = run.Rank;
            _through = run.From + run.Count - 1;
            StartStep(run.From);
        });
        Receive<GradientChunk>(chunk =>
        {
            if (_reduction.Add(chunk) is not { } averaged)
            {
                return;
            }
            if (!(_hub()?.TrySend(_linkId, averaged) ?? false))
            {
                Sender.Tell(averaged);
            }
            if (++_averaged == averaged.Count && averaged.Step < _through)
            {
                StartStep(averaged.Step + 1);
            }
        });
        Receive<StepApplied>(applied =>
        {
            if (applied.Step == _through)
            {
                _asker.Tell(new StepsSynced(applied.Step));
            }
        });
    }

    public static Props Props(int totalLength, Func<GradientHub?> hub, string linkId) =>
        Akka.Actor.Props.Create(() => new GradientSyncReducer(totalLength, hub, linkId));

    private void StartStep(long step)
    {
        _reduction.StartStep();
        _averaged = 0;
        var count = Chunking.CountFor(_totalLength);
        for (var index = 0; index < count; index++)
        {
            _reduction.Add(new GradientChunk(0, 0, step, index, count, _totalLength, Chunking.Slice(_localGradients, index), 0, 0));
        }
        var compute = new ComputeGradients(0, step, null);
        if (!(_hub()?.TrySend(_linkId, compute) ?? false))
        {
            _rank.Tell(compute);
        }
    }
}
