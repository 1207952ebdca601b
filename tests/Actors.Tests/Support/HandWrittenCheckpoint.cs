using System.Text.Json.Nodes;
using Orchestrator.Actors.Job;
using Orchestrator.Actors.Protocol;
using Orchestrator.Trainer.Checkpointing;

namespace Orchestrator.Actors.Tests.Support;

/// <summary>
/// What a rank 0 stand-in writes when it is told to save: a real checkpoint, committed by the job's own
/// <see cref="CheckpointStore"/>, so the supervisor finds, verifies and restarts from it as it would a trained
/// one. It holds counters only (no model tensors): writing it needs no TorchSharp and takes a millisecond.
/// </summary>
public static class HandWrittenCheckpoint
{
    /// <summary>Commits a checkpoint of <paramref name="step"/> in the job's work dir and returns rank 0's report of it.</summary>
    public static CheckpointWritten Commit(JobSpec spec, long step, string reason, string weightsSha256)
    {
        var store = new CheckpointStore(spec.CheckpointDirectory, new CheckpointNaming(spec.NameTemplate));
        var info = new CheckpointInfo(spec.Job, step, 0, step, weightsSha256, reason, DateTimeOffset.UtcNow, spec.Threads);
        var snapshot = new CheckpointSnapshot(info, new Dictionary<string, ComponentState>
        {
            ["counters"] = ComponentState.FromJson(new JsonObject { ["iteration"] = step }),
        });
        var commit = store.Commit(snapshot);
        // A rank's writer reports with no generation (-1): a write outlives the generation that asked for it.
        return new CheckpointWritten(-1, step, commit.Name, commit.Path, commit.WeightsSha256, reason, commit.Bytes,
            StallMilliseconds: 0, WriteMilliseconds: 0, Deleted: [], commit.AlreadyPresent);
    }
}
