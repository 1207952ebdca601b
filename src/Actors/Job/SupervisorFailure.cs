using Orchestrator.Trainer.Checkpointing;
using Orchestrator.Trainer.Runtime;

namespace Orchestrator.Actors.Job;

/// <summary>
/// The answer for whoever asked a job to run when its supervisor throws something no handler expected (a
/// bug, or a fault of the machine the handlers do not name): the job ends Failed, the error in one line,
/// with what a rerun resumes from.
/// </summary>
public static class SupervisorFailure
{
    public static JobFinished Finished(JobSpec spec, CheckpointStore store, long step, Exception reason)
    {
        var newest = store.FindLatestValid().Checkpoint?.Name;
        var message = DiskFull.Is(reason)
            ? DiskFull.Message(spec.WorkDir, newest)
            : $"the job's supervisor failed at step {step} ({Describe(reason)}); the committed checkpoints are intact: rerun to resume from {newest ?? "the start"}";
        return new JobFinished(JobOutcome.Failed, step, null, message);
    }

    // The innermost cause, its type and the first line of its message, without control characters.
    private static string Describe(Exception reason)
    {
        var cause = DiskFull.Causes(reason).Last();
        var line = cause.Message.Split('\n')[0].Trim().TrimEnd('.');
        var printable = new string(line.Select(c => char.IsControl(c) ? '?' : c).ToArray());
        return $"{cause.GetType().Name}: {(printable.Length <= 200 ? printable : printable[..200] + "...")}";
    }
}
