namespace Orchestrator.Actors.Job.Restart;

/// <summary>A checkpoint a restart can start from.</summary>
internal sealed record RestartPoint(string Name, string Path, long Step);

/// <summary>A rank failed: <paramref name="Step"/> is the last step every rank applied (the failure is in the next).</summary>
internal sealed record RankFailure(int Rank, string Reason, long Step);

/// <summary>What the supervisor does about a failed rank.</summary>
internal abstract record RestartDecision;

/// <summary>The restart budget is spent: the job fails, naming its newest good checkpoint.</summary>
internal sealed record GiveUp(string Message, string? LastGoodCheckpoint) : RestartDecision;

/// <summary>Restart <paramref name="Recreate"/> from <paramref name="From"/> (null: the start) after <paramref name="Delay"/>.</summary>
internal sealed record RestartPlan(RestartMode Mode, int FailedRank, int[] Recreate, RestartPoint? From, long FromStep, long StepsRedone, TimeSpan Delay, string Note) : RestartDecision;

/// <summary>
/// Where a failed rank is restarted: gives up once <see cref="RestartPolicy"/> says the budget is spent;
/// otherwise recreates only the failed rank when no step was taken since the newest checkpoint and the rank
/// can come back where it was (its peers reload that checkpoint in place), and every rank otherwise. Pure:
/// the supervisor journals and carries out what this decides.
/// </summary>
internal static class RestartPlanner
{
    /// <param name="slotKept">Whether the failed rank's device is still usable and the world keeps its size (always, in one process).</param>
    public static RestartDecision Plan(RankFailure failure, RestartPoint? latest, int worldSize, bool slotKept, RestartPolicy policy, IEnumerable<DateTimeOffset> earlierRestarts, DateTimeOffset now)
    {
        var (rank, reason, step) = failure;
        if (policy.NextDelay(earlierRestarts, now) is not { } delay)
        {
            return new GiveUp(
                $"rank {rank} failed at step {step + 1}: {reason}; restart limit reached ({policy.MaxRestarts} in {policy.Window.TotalMinutes:0.#} min); last good checkpoint: {latest?.Name ?? "none"}",
                latest?.Name);
        }
        var fromStep = latest?.Step ?? 0;
        var mode = latest is not null && step == fromStep && slotKept ? RestartMode.One : RestartMode.All;
        var recreate = mode == RestartMode.All ? Enumerable.Range(0, worldSize).ToArray() : [rank];
        var note = mode == RestartMode.All
            ? $"rank {rank} failed at step {step + 1} ({reason}); restarting all ranks from {latest?.Name ?? "the start"} in {delay.TotalMilliseconds:0} ms, {step - fromStep} step(s) redone"
            : $"rank {rank} failed at step {step + 1} ({reason}); no step since {latest!.Name}, so only rank {rank} is recreated and the others reload it in place, in {delay.TotalMilliseconds:0} ms";
        return new RestartPlan(mode, rank, recreate, latest, fromStep, step - fromStep, delay, note);
    }
}
