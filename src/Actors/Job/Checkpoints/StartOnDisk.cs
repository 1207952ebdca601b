using Orchestrator.Trainer.Checkpointing;

namespace Orchestrator.Actors.Job.Checkpoints;

/// <summary>
/// What a job's checkpoint directory offers a start, found and verified on a pool thread (hashing whole
/// checkpoints would hold up the supervisor's mailbox). The supervisor decides from it.
/// </summary>
/// <param name="RemovedSaves">Unfinished save folders of an interrupted run, removed.</param>
/// <param name="Named">The checkpoint the user named (<c>--resume PATH</c>), verified.</param>
/// <param name="HasCheckpoints">Whether the directory holds any checkpoint (a fresh start refuses to overwrite them).</param>
/// <param name="Latest">The newest valid checkpoint, when none was named.</param>
/// <param name="Skipped">One line per newer checkpoint that did not verify.</param>
/// <param name="Refusal">Why the start is refused (a named checkpoint that is corrupt, or of another model).</param>
internal sealed record StartOnDisk(int RemovedSaves, LoadedCheckpoint? Named, bool HasCheckpoints, LoadedCheckpoint? Latest, IReadOnlyList<string> Skipped, string? Refusal)
{
    public static StartOnDisk Find(CheckpointStore store, ResumeCandidates candidates, string? resumePath, bool freshStart)
    {
        var removed = 0;
        try
        {
            removed = store.RemoveAbandonedSaves();
            if (resumePath is not null)
            {
                return new(removed, store.LoadInfo(resumePath), true, null, [], null);
            }
            if (freshStart && store.List().Count > 0)
            {
                return new(removed, null, true, null, [], null);
            }
            var (latest, skipped) = candidates.Latest();
            return new(removed, null, latest is not null, latest, skipped, null);
        }
        catch (Exception e) when (e is CorruptCheckpointException or CheckpointMismatchException or ArgumentException)
        {
            return new(removed, null, false, null, [], e.Message);
        }
    }
}
