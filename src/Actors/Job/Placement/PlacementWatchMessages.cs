using Orchestrator.Actors.Protocol;

namespace Orchestrator.Actors.Job.Placement;

// Between a job's supervisor and its placement watch (its child, in the same process: nothing here crosses
// the network). The supervisor passes the cluster's news on (MembersChanged from the coordinator); the watch
// answers with what that news means for where ranks may run.

/// <summary>
/// Where the job's ranks may run now. Sent after every <see cref="MembersChanged"/> (so the supervisor knows
/// when its news has been taken in), after every node's answer to the directory check, and when the wait
/// for answers is over.
/// </summary>
/// <param name="Usable">A slot for every device of every member that passed its check, in the coordinator's node order.</param>
/// <param name="Members">The nodes that may hold ranks (reachable, admitted, not draining), checked or not.</param>
/// <param name="Draining">The nodes being drained: still up, but their ranks must move off at a checkpoint.</param>
/// <param name="AwaitingChecks">Nodes are still answering the directory check, and the wait for them is not over: a start waits rather than start small and grow.</param>
/// <param name="AnswersMembersChanged">This is the answer to one <see cref="MembersChanged"/> the supervisor passed on.</param>
internal sealed record SlotsChanged(IReadOnlyList<RankSlot> Usable, IReadOnlyList<string> Members, IReadOnlyList<string> Draining, bool AwaitingChecks, bool AnswersMembersChanged)
{
    /// <summary>Before any news: no node, nothing to wait for.</summary>
    public static SlotsChanged None { get; } = new([], [], [], AwaitingChecks: false, AnswersMembersChanged: false);

    public bool IsDraining(string? node) => node is not null && Draining.Contains(node);

    public bool IsMember(string? node) => node is not null && Members.Contains(node);
}

/// <summary>A node answered that it cannot take the job's ranks (the job's directory, or its code), and why.</summary>
internal sealed record NodeCannotTakeRanks(string Node, string Problem);

/// <summary>
/// The watch failed in a way nothing expects (the probe file could not be written): the supervisor fails
/// with <paramref name="Cause"/>, which ends the job in one line as any unexpected failure of its own does.
/// </summary>
internal sealed record PlacementFailed(Exception Cause);
