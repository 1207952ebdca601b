using Orchestrator.Trainer.Jobs;

namespace SampleJobs;

/// <summary><c>needs-data</c>: a job whose factory fails, as one whose data folder is missing does.</summary>
public sealed class FailingJob : IJobDefinition
{
    public string Name => "needs-data";

    public TrainingJob Create(JobContext context)
    {
        var folder = context.Args.String("data", "/nonexistent/data");
        throw new DirectoryNotFoundException($"data folder {folder} is missing\n(a second line that must not be printed)");
    }
}
