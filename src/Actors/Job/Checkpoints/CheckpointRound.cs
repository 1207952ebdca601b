using Orchestrator.Actors.Protocol;
using Orchestrator.Trainer.Distributed;

namespace Orchestrator.Actors.Job.Checkpoints;

/// <summary>
/// One checkpoint at a step boundary: every rank exports its buffers (batch-norm statistics and the like,
/// which gradients do not keep in step), the supervisor averages them and every rank imports the average;
/// the replicas' digests must then agree, and rank 0 saves. A null <see cref="Reason"/> syncs and checks but
/// saves nothing (the end of a run without --save-last).
/// </summary>
internal sealed class CheckpointRound(int ranks, long step, SaveReason? reason)
{
    private readonly float[]?[] _buffers = new float[ranks][];

    public long Step { get; } = step;

    public SaveReason? Reason { get; } = reason;

    public ReplicaDigests Digests { get; } = new(ranks);

    public void BuffersFrom(int rank, float[] values) => _buffers[rank] = values;

    /// <summary>The buffers every rank imports, once all have exported theirs.</summary>
    public float[] AveragedBuffers() => GradientAverager.Average(_buffers!);

    /// <summary>What rank 0 is told to save; a scheduled save is written in the background while training goes on.</summary>
    public SaveCheckpoint SaveOrder(int generation, SaveReason reason) => new(generation, Step, reason.ToText(), Blocking: reason.Blocks());
}
