using Orchestrator.Actors.Job;

namespace Orchestrator.Actors.Tests.Job;

/// <summary>The failure and recovery counts history, status and plot share, on journals written by hand.</summary>
public sealed class JobInterruptionsTests
{
    private static readonly DateTimeOffset At = DateTimeOffset.UnixEpoch;
    private static readonly JobSubmitted Submitted = new(new JobSpec { Job = "mlp", WorkDir = "/w", Ranks = 1, Steps = 100 }, At);

    [Fact]
    public void Two_kills_and_reruns_are_two_process_interruptions_with_two_resumes_and_no_rank_failures()
    {
        var counts = JobInterruptions.Of(
        [
            Submitted, Started(1, null, 0), Checkpoint(10), Fault("kill-process@step=15"),
            Started(2, "iter_10", 10), Checkpoint(20), Checkpoint(30),
            Started(3, "iter_30", 30), Checkpoint(40), new JobCompleted(40, "digest", At),
        ]);

        Assert.Equal((0, 0), (counts.RankFailures, counts.Restarts));
        Assert.Equal((2, 2), (counts.ProcessInterruptionCount, counts.Resumes));
        Assert.Equal((2, 2), (counts.Failures, counts.Recoveries));
        Assert.Equal([(15L, true, 4L), (31L, false, 0L)], counts.Processes.Select(p => (p.Step, p.Killed, p.StepsRedone)));
        Assert.Equal(4, counts.StepsRedone);
    }

    [Fact]
    public void A_rank_failure_restarted_in_the_process_is_not_a_process_interruption()
    {
        var counts = JobInterruptions.Of(
        [
            Submitted, Started(1, null, 0), Checkpoint(10), new RankFailed(1, 0, 15, "hung", At),
            new RestartScheduled(2, "all", 0, "iter_10", 10, 4, 200, At), Started(2, "iter_10", 10), new JobCompleted(20, "digest", At),
        ]);

        Assert.Equal((1, 1, 4L), (counts.RankFailures, counts.Restarts, counts.StepsRedone));
        Assert.Empty(counts.Processes);
    }

    [Fact]
    public void A_death_the_rerun_has_not_resumed_yet_is_counted_without_a_resume()
    {
        var counts = JobInterruptions.Of([Submitted, Started(1, null, 0), Checkpoint(10), new JobExtended(200, null, At)]);

        Assert.Equal((1, 0), (counts.ProcessInterruptionCount, counts.Resumes));
        Assert.Equal(3, counts.Processes[0].RevealedAt);
    }

    [Fact]
    public void A_stop_and_a_rerun_are_not_an_interruption() =>
        Assert.Empty(JobInterruptions.Of([Submitted, Started(1, null, 0), Checkpoint(10), new JobStopped(10, "iter_10", At), Started(2, "iter_10", 10)]).Processes);

    private static RanksStarted Started(int generation, string? from, long step) => new(generation, 1, from, step, At);

    private static CheckpointCommitted Checkpoint(long step) => new(step, $"iter_{step}", $"/w/checkpoints/iter_{step}", "digest", 0.5, "schedule", At);

    private static FaultFired Fault(string id) => new(id, At);
}
