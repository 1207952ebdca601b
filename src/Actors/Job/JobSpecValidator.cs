using Orchestrator.Trainer.Checkpointing;
using Orchestrator.Trainer.Distributed;
using Orchestrator.Trainer.Jobs;
using Orchestrator.Trainer.Jobs.Loading;
using Orchestrator.Trainer.Training;

namespace Orchestrator.Actors.Job;

/// <summary>Refuses a job that cannot run, with one line naming the problem, before any actor starts.</summary>
public static class JobSpecValidator
{
    /// <summary>The spec, checked, with what only the job knows filled in (its global batch).</summary>
    public static JobSpec Validate(JobSpec spec)
    {
        if ((spec.Steps is null) == (spec.Epochs is null))
        {
            throw new ArgumentException("give exactly one of --steps N and --epochs E");
        }
        if (spec.Steps is <= 0 || spec.Epochs is <= 0)
        {
            throw new ArgumentException("--steps and --epochs must be positive");
        }
        if (spec.Ranks is < 1 or > 64)
        {
            throw new ArgumentException($"--ranks {spec.Ranks} must be between 1 and 64");
        }
        if (spec.Keep < 0)
        {
            throw new ArgumentException("--keep must be 0 (keep all) or more");
        }
        if (spec.Threads is <= 0 or > RunOptionsValidator.MaxThreads)
        {
            throw new ArgumentException($"--threads {spec.Threads} is out of range: give 1 to {RunOptionsValidator.MaxThreads}");
        }
        if (spec.StepTimeout <= TimeSpan.Zero || spec.Restarts.MaxRestarts < 0 || spec.Restarts.BaseDelay < TimeSpan.Zero)
        {
            throw new ArgumentException("--step-timeout must be positive, --max-restarts and --restart-backoff not negative");
        }
        spec.Schedule.Validate();
        _ = new CheckpointNaming(spec.NameTemplate);
        foreach (var fault in spec.Faults.Select(FaultSpec.Parse))
        {
            if (fault.Rank >= spec.Ranks)
            {
                throw new ArgumentException($"fault {fault.Id} names rank {fault.Rank}, but the job has {spec.Ranks} rank(s)");
            }
        }
        return CheckWithTheJob(spec);
    }

    // Building one replica checks what only the job knows: the name (and the assembly it is in), the device,
    // its arguments, and the global batch the world sizes must divide. It is built as rank 0 of 1: a job
    // that reports its global batch is then checked against every world size here, without a second build.
    private static JobSpec CheckWithTheJob(JobSpec spec)
    {
        var definition = JobResolver.Resolve(spec.Job, spec.JobAssembly);
        var rankSpec = new RankSpec(spec.Job, spec.JobOptions, 0, 1, spec.Threads, spec.CheckpointDirectory, spec.NameTemplate, spec.Keep)
        {
            JobAssembly = spec.JobAssembly,
            JobArgs = spec.JobArgs,
        };
        var context = rankSpec.Context();
        int? batch;
        using (var probe = JobFactory.Create(definition, context))
        {
            batch = probe.Data.GlobalBatchSize;
        }
        context.Args.RefuseUnread(spec.Job);
        var sizing = new WorldSizing(spec.MinRanks ?? spec.Ranks, spec.MaxRanks ?? spec.Ranks, batch);
        if (spec.MinRanks is null && batch is { } global && global % spec.Ranks != 0)
        {
            throw new ArgumentException($"--ranks {spec.Ranks} does not divide the global batch of {global}; choose a world size that divides it, or change --batch-size");
        }
        if (sizing.SizeFor(sizing.MaxRanks) is null)
        {
            throw new ArgumentException($"no world size between {sizing.MinRanks} and {sizing.MaxRanks} divides the global batch of {batch}; change --batch-size or the rank bounds");
        }
        return spec with { GlobalBatchSize = batch };
    }
}
