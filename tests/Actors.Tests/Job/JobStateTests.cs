using Orchestrator.Actors.Job;

namespace Orchestrator.Actors.Tests.Job;

public sealed class JobStateTests
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.UnixEpoch;
    private static readonly JobSpec Spec = new() { Job = "mlp", WorkDir = "/w", Steps = 100 };

    [Fact]
    public void Events_evolve_the_state_in_order()
    {
        var state = new JobEvent[]
        {
            new JobSubmitted(Spec, T0),
            new RanksStarted(1, 2, null, 0, T0),
            new CheckpointCommitted(10, "iter_10", "/w/checkpoints/iter_10", "abc", 0.5, "schedule", T0),
            new FaultFired("crash@step=12,rank=1", T0),
            new RankFailed(1, 1, 12, "boom", T0),
            new RestartScheduled(2, "all", 1, "iter_10", 10, 1, 20, T0.AddSeconds(1)),
            new RanksStarted(2, 2, "iter_10", 10, T0),
            new JobCompleted(100, "def", T0),
        }.Aggregate(JobState.Empty, (s, e) => s.Apply(e));

        Assert.Equal(JobStatus.Completed, state.Status);
        Assert.Equal(100, state.Step);
        Assert.Equal("iter_10", state.LastCheckpoint!.Name);
        Assert.Equal(["crash@step=12,rank=1"], state.FiredFaults);
        Assert.Equal(1, state.Failures);
        Assert.Equal([T0.AddSeconds(1)], state.Restarts);
        Assert.Equal(2, state.Generation);
        Assert.Equal("def", state.FinalWeightsSha256);
    }

    [Fact]
    public void A_late_commit_of_an_older_checkpoint_does_not_replace_the_newer_one()
    {
        var state = JobState.Empty
            .Apply(new JobSubmitted(Spec, T0))
            .Apply(new CheckpointCommitted(20, "iter_20", "p", "x", 0.1, "schedule", T0))
            .Apply(new CheckpointCommitted(10, "iter_10", "p", "y", 0.2, "schedule", T0));

        Assert.Equal("iter_20", state.LastCheckpoint!.Name);
    }

    [Fact]
    public void Extending_a_completed_job_makes_it_run_again()
    {
        var state = JobState.Empty
            .Apply(new JobSubmitted(Spec, T0))
            .Apply(new JobCompleted(100, "d", T0))
            .Apply(new JobExtended(200, null, T0));

        Assert.Equal(JobStatus.Running, state.Status);
        Assert.Equal(200, state.Spec!.Steps);
        Assert.Null(state.FinalWeightsSha256);
    }
}
