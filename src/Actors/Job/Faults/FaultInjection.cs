using Orchestrator.Trainer.Distributed;

namespace Orchestrator.Actors.Job.Faults;

/// <summary>
/// The faults a job was told to inject (<c>--fault kind@step=N</c>) and which of them are due: each fires
/// once, at the start of its step, and the journal remembers the fired ones so a restart does not fire them
/// again.
/// </summary>
internal sealed class FaultInjection(IReadOnlyList<FaultSpec> faults)
{
    public bool IsEmpty => faults.Count == 0;

    /// <summary>The faults of <paramref name="step"/> that have not fired yet.</summary>
    public IReadOnlyList<FaultSpec> DueAt(long step, IReadOnlyCollection<string> fired) =>
        faults.Count == 0 ? [] : faults.Where(f => f.Step == step && !fired.Contains(f.Id)).ToList();

    /// <summary>The step of the next unfired fault after <paramref name="step"/>: a run-ahead window ends before it.</summary>
    public long? NextAfter(long step, IReadOnlyCollection<string> fired) =>
        faults.Where(f => f.Step > step && !fired.Contains(f.Id)).Select(f => (long?)f.Step).Min();

    /// <summary>Whether the process itself is to die (a crash the journal and checkpoints must survive).</summary>
    public static bool KillsProcess(IEnumerable<FaultSpec> due) => due.Any(f => f.Kind == FaultKind.KillProcess);

    /// <summary>The fault <paramref name="rank"/> injects into its step, if any (killing the process is the supervisor's).</summary>
    public static FaultKind? ForRank(IEnumerable<FaultSpec> due, int rank) =>
        due.FirstOrDefault(f => f.Rank == rank && f.Kind != FaultKind.KillProcess)?.Kind;
}
