using Orchestrator.Trainer.Checkpointing;
using Orchestrator.Trainer.Distributed;
using Orchestrator.Trainer.Jobs;

namespace Orchestrator.Actors.Job;

/// <summary>Refuses a job that cannot run, with one line naming the problem, before any actor starts.</summary>
public static class JobSpecValidator
{
    public static void Validate(JobSpec spec)
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
        if (spec.Threads <= 0)
        {
            throw new ArgumentException("--threads must be positive");
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
        // Building rank 0's replica once checks what only the job knows: the name, the device, and that the
        // batch divides between the ranks.
        using var probe = JobCatalog.Factory(spec.Job, spec.JobOptions with { Rank = 0, Ranks = spec.Ranks })();
    }
}
