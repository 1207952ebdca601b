using Orchestrator.Trainer.Checkpointing;

namespace Orchestrator.Actors.Job;

/// <summary>
/// Whether a run may continue the job its work dir's journal holds: the same job, from the same code. A job
/// assembly whose hash differs from the recorded one is refused, naming both hashes, unless the user says
/// where to continue from (<c>--resume PATH</c>): then the new code is recorded and the job goes on with it.
/// </summary>
public static class JobIdentity
{
    public static string? Problem(JobSpec recorded, JobSpec requested)
    {
        if (Sha(recorded) == Sha(requested) || requested.ResumePath is not null)
        {
            return null;
        }
        return recorded.JobAssembly is null || requested.JobAssembly is null
            ? $"work dir {requested.WorkDir} holds job '{recorded.Job}' {Origin(recorded)}, not {Origin(requested)}; use another work dir"
            : $"job '{recorded.Job}' in {requested.WorkDir} was submitted with {recorded.JobAssembly.Path} sha256 {recorded.JobAssembly.Sha256}, but {requested.JobAssembly.Path} now has sha256 {requested.JobAssembly.Sha256}; rebuild the recorded code, or continue with the new code by giving --resume PATH (a checkpoint of this job)";
    }

    /// <summary>
    /// The work dir's newest checkpoint is of another job: refused before the submission is recorded (the rank
    /// would refuse it too, but only after a journal of a new work dir had recorded the wrong job for good).
    /// The same holds for a checkpoint named by <c>--resume PATH</c>.
    /// </summary>
    public static string? CheckpointProblem(LoadedCheckpoint checkpoint, JobSpec requested) =>
        checkpoint.Info.Job == requested.Job ? null
        : requested.ResumePath is { } named
            ? $"checkpoint {PrintableText.Escape(named)} is of job '{checkpoint.Info.Job}', not '{requested.Job}'; give --resume a checkpoint of job '{requested.Job}', or --load-from for weights only"
            : $"checkpoint {checkpoint.Name} in {requested.WorkDir} is of job '{checkpoint.Info.Job}', not '{requested.Job}'; use a work dir of this job or --load-from for weights only";

    /// <summary>The user gave a checkpoint to continue from with other code: the change is to be recorded.</summary>
    public static bool CodeChanged(JobSpec recorded, JobSpec requested) =>
        Sha(recorded) != Sha(requested) && requested.ResumePath is not null && requested.JobAssembly is not null;

    private static string? Sha(JobSpec spec) => spec.JobAssembly?.Sha256.ToLowerInvariant();

    private static string Origin(JobSpec spec) => spec.JobAssembly is null ? "(built in)" : $"from {spec.JobAssembly.Path}";
}
