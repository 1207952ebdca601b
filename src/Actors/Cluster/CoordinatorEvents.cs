using Orchestrator.Actors.Job;

namespace Orchestrator.Actors.Cluster;

// The coordinator's journal: which jobs the cluster owes work to. A new coordinator (after the node that
// hosted it died) replays it and picks every unfinished job up again.

public abstract record CoordinatorEvent(DateTimeOffset At);

public sealed record ClusterJobSubmitted(JobSpec Spec, DateTimeOffset At) : CoordinatorEvent(At);

public sealed record ClusterJobEnded(string WorkDir, string Outcome, DateTimeOffset At) : CoordinatorEvent(At);
