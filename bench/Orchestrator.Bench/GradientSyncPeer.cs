using Akka.Actor;
using Orchestrator.Actors.Gradients;
using Orchestrator.Actors.Protocol;

namespace Orchestrator.Bench;

/// <summary>
/// Rank 1 of the gradient-sync rows: as a remote rank does, it sends a step's chunks when the step starts and
/// ends the step once every average is back; on a gradient link, or through Akka.Remote.
/// </summary>
internal sealed class GradientSyncPeer : ReceiveActor
{
    private readonly float[] _gradients;
    private readonly int _count;
    private readonly int _totalLength;
    private readonly GradientLinkAddress? _linkAddress;
    private readonly GradientLinkTls? _tls;
    private GradientLinkClient? _link;
    private int _received;

    public GradientSyncPeer(ActorSelection reducer, int totalLength, GradientLinkAddress? link, GradientLinkTls? tls)
    {
        _linkAddress = link;
        _tls = tls;
        _totalLength = totalLength;
        _gradients = GradientSyncProcess.GradientsOf(totalLength, seed: 1);
        _count = Chunking.CountFor(totalLength);
        Receive<ComputeGradients>(run =>
        {
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
            if (++_received < _count)
            {
                return;
            }
            var applied = new StepApplied(0, 1, averaged.Step, 0, false, 0);
            if (!(_link?.Send(applied) ?? false))
            {
                reducer.Tell(applied, Self);
            }
        });
    }

    protected override void PreStart()
    {
        if (_linkAddress is not null)
        {
            _link = GradientLinkClient.Connect(_linkAddress, Self, _tls);
        }
    }

    protected override void PostStop() => _link?.Dispose();
}
