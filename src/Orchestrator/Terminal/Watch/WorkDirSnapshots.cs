using Orchestrator.Actors.Job;
using Orchestrator.Cli.Commands.Cluster;

namespace Orchestrator.Cli.Terminal.Watch;

/// <summary>
/// A work dir's job as the watch shows it: state, checkpoint, restarts and the end from the journal; the
/// step, loss and rate between checkpoints from the TensorBoard files (the journal records checkpoints, not
/// steps). Without TensorBoard files the losses come from the journal's checkpoints.
/// </summary>
internal static class WorkDirSnapshots
{
    public static WatchSnapshot From(string workDir, JobHistory history, TensorBoardScalars scalars, DateTimeOffset now)
    {
        var state = history.State;
        var spec = state.Spec ?? throw new ArgumentException("the journal has no submitted job", nameof(history));
        var word = state.Status.ToString().ToLowerInvariant();
        var exitCode = JobFollower.ExitCodeFor(word);
        var running = state.Status == JobStatus.Running;
        var started = history.Events.OfType<RanksStarted>().LastOrDefault();
        var interruptions = JobInterruptions.Of(history.Events); // counted as history, status and plot count them
        var losses = scalars.RecentLosses.Length > 0
            ? scalars.RecentLosses
            : history.Events.OfType<CheckpointCommitted>().Select(c => c.Loss).Where(l => !double.IsNaN(l)).ToArray();
        var job = new JobSnapshot(
            Job: spec.Job,
            WorkDir: workDir,
            State: word,
            Why: state.FailureReason,
            // Once ended, the journal has the last step; before, TensorBoard is ahead of it by up to a checkpoint interval.
            Step: exitCode is null ? Math.Max(state.Step, scalars.LastStep ?? 0) : state.Step,
            Total: spec.Steps,
            Epochs: spec.Epochs,
            Losses: losses,
            StepsPerSecond: running ? scalars.StepsPerSecond : null,
            Checkpoint: state.LastCheckpoint?.Name,
            CheckpointAt: state.LastCheckpoint?.At,
            Restarts: interruptions.Recoveries,
            Failures: interruptions.Failures,
            Ranks: started?.Ranks ?? spec.Ranks,
            RankNodes: started?.Nodes ?? []);
        return new WatchSnapshot(now, workDir, [job], [], ExitCode: exitCode);
    }

    /// <summary>Before the job's first event: the dir, and what the watch is waiting for.</summary>
    public static WatchSnapshot Waiting(string workDir, string why, DateTimeOffset now) =>
        new(now, workDir, [], [], Notice: $"waiting for the job in {workDir} ({why})");
}
