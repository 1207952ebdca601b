using Orchestrator.Actors.Job;
using Orchestrator.Trainer.Checkpointing;
using Orchestrator.Trainer.Jobs;
using Orchestrator.Trainer.Jobs.Loading;

namespace Orchestrator.Actors.Tests.Job;

/// <summary>Whether a rerun may continue a work dir's job, and the journal's record of a change of code.</summary>
public sealed class JobIdentityTests
{
    private static readonly JobAssemblyRef Built = new("/jobs/MyJobs.dll", new string('a', 64));
    private static readonly JobAssemblyRef Rebuilt = new("/jobs/MyJobs.dll", new string('b', 64));
    private static readonly JobSpec Recorded = new() { Job = "lm", WorkDir = "/w", Steps = 100, JobAssembly = Built };

    [Fact]
    public void The_same_code_continues()
    {
        Assert.Null(JobIdentity.Problem(Recorded, Recorded with { Steps = 200 }));
        Assert.False(JobIdentity.CodeChanged(Recorded, Recorded));
    }

    [Fact]
    public void Other_code_is_refused_naming_both_hashes()
    {
        var problem = JobIdentity.Problem(Recorded, Recorded with { JobAssembly = Rebuilt });

        Assert.Equal($"job 'lm' in /w was submitted with /jobs/MyJobs.dll sha256 {Built.Sha256}, but /jobs/MyJobs.dll now has sha256 {Rebuilt.Sha256}; rebuild the recorded code, or continue with the new code by giving --resume PATH (a checkpoint of this job)", problem);
    }

    [Fact]
    public void A_built_in_job_and_a_users_job_of_the_same_name_are_different_jobs() =>
        Assert.Equal("work dir /w holds job 'lm' from /jobs/MyJobs.dll, not (built in); use another work dir", JobIdentity.Problem(Recorded, Recorded with { JobAssembly = null }));

    [Fact]
    public void Other_code_with_a_checkpoint_to_resume_from_is_recorded_and_replays_into_the_spec()
    {
        var requested = Recorded with { JobAssembly = Rebuilt, ResumePath = "/w/checkpoints/iter_50" };
        Assert.Null(JobIdentity.Problem(Recorded, requested));
        Assert.True(JobIdentity.CodeChanged(Recorded, requested));

        var state = JobState.Empty.Apply(new JobSubmitted(Recorded, DateTimeOffset.UnixEpoch)).Apply(new JobCodeChanged(Rebuilt, "/w/checkpoints/iter_50", DateTimeOffset.UnixEpoch));

        Assert.Equal(Rebuilt, state.Spec!.JobAssembly);
    }

    [Fact]
    public void An_elastic_job_whose_upper_bound_does_not_divide_the_batch_starts_at_the_largest_size_that_does()
    {
        var spec = new JobSpec
        {
            Job = MlpJob.Name, WorkDir = "/tmp/elastic", Steps = 10, Threads = 1, Ranks = 3, MinRanks = 1, MaxRanks = 3,
            JobOptions = new BuiltInJobOptions { Samples = 256 }, Schedule = new CheckpointSchedule(EveryIterations: 5),
        };

        var checkedSpec = JobSpecValidator.Validate(spec);

        Assert.Equal(64, checkedSpec.GlobalBatchSize);
        Assert.Equal(2, new WorldSizing(1, 3, checkedSpec.BatchToDivide()).SizeFor(3));
        Assert.Equal(
            "no world size between 3 and 3 divides the global batch of 64; change --batch-size or the rank bounds",
            Assert.Throws<ArgumentException>(() => JobSpecValidator.Validate(spec with { MinRanks = 3 })).Message);
    }
}
