using Orchestrator.Trainer.Checkpointing;

namespace Orchestrator.Actors.Job.Checkpoints;

/// <summary>
/// Which checkpoint a job (re)starts from: the newest that verifies, passing over those a rank refused to
/// restore during this run. A checkpoint can verify (every file matches its sealed hash) and still be refused
/// only when restored (an optimizer blob padded past its state and resealed); it is then skipped like a
/// corrupt one, for the rest of the run, and the next older valid one is the start (or a fresh one).
/// </summary>
/// <remarks>A checkpoint the user named (<c>--resume PATH</c>) is never replaced: its refusal ends the job.</remarks>
public sealed class ResumeCandidates(CheckpointStore store, string? namedByUser)
{
    private readonly HashSet<string> _refused = new(StringComparer.Ordinal);

    /// <summary>Whether <paramref name="checkpointPath"/> was chosen here rather than named by the user, so an older one may replace it.</summary>
    public bool ChoseItself(string checkpointPath) =>
        namedByUser is null || FullPath(namedByUser) != FullPath(checkpointPath);

    /// <summary>The newest checkpoint that verifies and was not refused, and one line per newer one that did not verify.</summary>
    public (LoadedCheckpoint? Checkpoint, IReadOnlyList<string> Skipped) Latest() => store.FindLatestValid(_refused);

    /// <summary>
    /// <see cref="Latest"/> on a pool thread: verifying hashes every file of every newer checkpoint, which must
    /// not hold up an actor's mailbox. The refused set is copied first, so the actor may refuse more meanwhile.
    /// </summary>
    public Task<(LoadedCheckpoint? Checkpoint, IReadOnlyList<string> Skipped)> LatestInBackground()
    {
        var refused = new HashSet<string>(_refused, StringComparer.Ordinal);
        return Task.Run(() => store.FindLatestValid(refused));
    }

    /// <summary>
    /// Records that a rank refused <paramref name="checkpointPath"/> for <paramref name="reason"/> (which names
    /// the checkpoint and file) and chooses the next start: the last line for the user says both (any before
    /// it name older checkpoints that did not verify either).
    /// </summary>
    public (IReadOnlyList<string> Lines, LoadedCheckpoint? Next) Refuse(string checkpointPath, string reason)
    {
        MarkRefused(checkpointPath);
        var (next, skipped) = Latest();
        return (RefusalLines(reason, next, skipped), next);
    }

    /// <summary>Skips <paramref name="checkpointPath"/> from now on, for this run.</summary>
    public void MarkRefused(string checkpointPath) => _refused.Add(Path.GetFileName(Path.TrimEndingDirectorySeparator(checkpointPath)));

    /// <summary>What the user is told after a refusal, once the next start is known.</summary>
    public static IReadOnlyList<string> RefusalLines(string reason, LoadedCheckpoint? next, IReadOnlyList<string> skipped)
    {
        var lines = skipped.Select(line => $"skipping invalid checkpoint: {line}").ToList();
        lines.Add(next is null ? $"{reason}; no older valid checkpoint, starting fresh" : $"{reason}; resuming from {next.Name} instead");
        return lines;
    }

    private static string FullPath(string path) => Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
}
