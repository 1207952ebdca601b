namespace Orchestrator.Actors.Job;

/// <summary>
/// At most <see cref="MaxRestarts"/> restarts within a sliding <see cref="Window"/>; the n-th restart in the
/// window waits <see cref="BaseDelay"/> * 2^(n-1), at most <see cref="MaxDelay"/>.
/// </summary>
public sealed record RestartPolicy
{
    public int MaxRestarts { get; init; } = 5;
    public TimeSpan Window { get; init; } = TimeSpan.FromMinutes(10);
    public TimeSpan BaseDelay { get; init; } = TimeSpan.FromMilliseconds(200);
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The delay before the next restart, or null when the budget in the window is spent.</summary>
    public TimeSpan? NextDelay(IEnumerable<DateTimeOffset> earlierRestarts, DateTimeOffset now)
    {
        var recent = earlierRestarts.Count(at => now - at < Window);
        if (recent >= MaxRestarts)
        {
            return null;
        }
        var delay = BaseDelay.TotalMilliseconds * Math.Pow(2, recent);
        return TimeSpan.FromMilliseconds(Math.Min(delay, MaxDelay.TotalMilliseconds));
    }
}
