using Orchestrator.Actors.Cluster;
using Orchestrator.Actors.Job;
using Orchestrator.Cli.Commands.Cluster;

namespace Orchestrator.Cli.Terminal.Watch;

/// <summary>
/// A cluster as the watch shows it, from the coordinator's <see cref="ClusterStatus"/>: its nodes with their
/// health, devices and the ranks they hold, and its jobs (or the one job followed with --work-dir, whose end
/// ends the watch).
/// </summary>
internal sealed class ClusterSnapshots(string hostPort, string? followedWorkDir, int keepLosses)
{
    private static readonly HashSet<string> Moving = ["training", "starting"];

    private readonly Dictionary<string, StepTrail> _trails = new(StringComparer.Ordinal);

    public WatchSnapshot From(ClusterStatus status, DateTimeOffset now)
    {
        var shown = status.Jobs.Where(j => followedWorkDir is null || j.WorkDir == followedWorkDir).ToArray();
        var jobs = shown.Select(j => Job(j, now)).ToArray();
        var nodes = status.Nodes.Select(n => Node(n, status.Jobs)).ToArray();
        var followed = followedWorkDir is null ? null : jobs.FirstOrDefault();
        var notice = followedWorkDir is not null && followed is null ? $"the coordinator does not know a job in {followedWorkDir} yet"
            : status.Insecure ? ClusterOptions.InsecureCluster : null;
        return new WatchSnapshot(now, hostPort, jobs, nodes, notice, followed is null ? null : JobFollower.ExitCodeFor(followed.State));
    }

    /// <summary>The last snapshot again, with a notice: the coordinator did not answer (it may be moving to another node).</summary>
    public static WatchSnapshot Unanswered(WatchSnapshot? last, string hostPort, string why, DateTimeOffset now) =>
        (last ?? new WatchSnapshot(now, hostPort, [], [])) with { At = now, Notice = $"no answer from the cluster ({why}); waiting for the coordinator", ExitCode = null };

    private JobSnapshot Job(JobLiveStatus job, DateTimeOffset now)
    {
        var trail = _trails.TryGetValue(job.WorkDir, out var known) ? known : _trails[job.WorkDir] = new StepTrail(keepLosses);
        trail.Saw(job.Step, job.Loss, now);
        return new JobSnapshot(
            Job: job.Job,
            WorkDir: job.WorkDir,
            State: job.State,
            Why: job.Why,
            Step: job.Step,
            // A job that ended before this coordinator took over is reported by its outcome alone.
            Total: job.Total > 0 ? job.Total : null,
            Epochs: null,
            Losses: [.. trail.Losses],
            StepsPerSecond: Moving.Contains(job.State) ? trail.StepsPerSecond : null,
            Checkpoint: job.LastCheckpoint,
            CheckpointAt: job.LastCheckpointAt,
            Restarts: job.Restarts,
            Failures: null,
            Ranks: job.WorldSize,
            RankNodes: job.RankNodes);
    }

    private static NodeSnapshot Node(NodeStatus node, JobLiveStatus[] jobs) => new(
        node.Address,
        node.Status,
        node.Devices,
        [.. jobs.Where(j => JobFollower.ExitCodeFor(j.State) is null)
            .SelectMany(j => j.RankNodes.Select((holder, rank) => (holder, rank, j.WorkDir)))
            .Where(r => r.holder == node.Address)
            .Select(r => $"{JobName(r.WorkDir)}#{r.rank}")],
        node.Problem);

    // The work dir's last folder: short enough for a table cell, and what users call their runs.
    private static string JobName(string workDir) => Path.GetFileName(workDir.TrimEnd('/')) is { Length: > 0 } name ? name : workDir;
}
