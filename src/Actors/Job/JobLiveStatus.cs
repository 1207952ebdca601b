namespace Orchestrator.Actors.Job;

/// <summary>A job's state as its supervisor sees it now (asked by <c>status --cluster</c>).</summary>
/// <param name="LastCheckpointAt">When <paramref name="LastCheckpoint"/> was committed (its age in <c>status --watch</c>).</param>
public sealed record JobLiveStatus(
    string Job, string WorkDir, string State, string? Why, long Step, long Total, double Loss, int WorldSize,
    string[] RankNodes, string? LastCheckpoint, int Restarts, DateTimeOffset? LastCheckpointAt = null);

public sealed class GetJobStatus
{
    public static readonly GetJobStatus Instance = new();
}
