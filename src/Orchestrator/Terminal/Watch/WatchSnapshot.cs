namespace Orchestrator.Cli.Terminal.Watch;

/// <summary>
/// What <c>status --watch</c> shows at one moment: built by a snapshot source (a work dir's journal and
/// TensorBoard files, or a cluster's status), drawn by a view (the live terminal view or plain lines). Plain
/// data, so the views are tested without a job, a journal or a cluster.
/// </summary>
/// <param name="Source">What is watched: the work dir, or the cluster's HOST:PORT.</param>
/// <param name="Notice">Why the view has less to show than usual (no journal yet, no answer from the cluster).</param>
/// <param name="ExitCode">Set once the watched job has reached a final state: the code the watch exits with.</param>
internal sealed record WatchSnapshot(
    DateTimeOffset At, string Source, JobSnapshot[] Jobs, NodeSnapshot[] Nodes, string? Notice = null, int? ExitCode = null);

/// <param name="State">Lower-case state word: running, restarting, completed, failed, stopped (a work dir), or the
/// supervisor's phase on a cluster (waiting, starting, training, ...).</param>
/// <param name="Total">Steps in all; null when the job is given in <paramref name="Epochs"/>.</param>
/// <param name="Losses">Recent losses, oldest first, for the sparkline; the last one is the current loss.</param>
/// <param name="StepsPerSecond">The job's rate; its ranks step together, so it is every rank's rate too.</param>
/// <param name="Failures">Rank failures and process interruptions (JobInterruptions); null where the source does not say (a cluster reports restarts only).</param>
/// <param name="RankNodes">Where each rank runs, by rank (cluster node addresses; empty in one process).</param>
internal sealed record JobSnapshot(
    string Job,
    string WorkDir,
    string State,
    string? Why,
    long Step,
    long? Total,
    long? Epochs,
    double[] Losses,
    double? StepsPerSecond,
    string? Checkpoint,
    DateTimeOffset? CheckpointAt,
    int Restarts,
    int? Failures,
    int Ranks,
    string[] RankNodes)
{
    public double? Loss => Losses.Length > 0 ? Losses[^1] : null;

    /// <summary>Time to the last step at the current rate; null when either is unknown.</summary>
    public TimeSpan? Eta => Total is { } total && StepsPerSecond is > 0 and var rate && total >= Step
        ? TimeSpan.FromSeconds((total - Step) / rate)
        : null;

    /// <summary>Fraction done, 0 to 1; null when the length is in epochs.</summary>
    public double? Fraction => Total is > 0 and var total ? Math.Clamp((double)Step / total, 0, 1) : null;
}

/// <param name="Health">up, unreachable, draining, joining, leaving, refused, ... as the coordinator says.</param>
/// <param name="Ranks">The ranks this node holds, as <c>WORKDIR#RANK</c>.</param>
internal sealed record NodeSnapshot(string Address, string Health, string[] Devices, string[] Ranks, string? Problem);
