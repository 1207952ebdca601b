using Orchestrator.Trainer.Checkpointing;

namespace Orchestrator.Trainer.Training;

public enum RunOutcome
{
    Completed,
    AlreadyComplete,
    Interrupted,
}

public sealed record RunResult(
    string Job,
    RunOutcome Outcome,
    long Iteration,
    long Epoch,
    string WeightsSha256,
    string? ResumedFrom,
    IReadOnlyList<SaveReport> Saves);

/// <summary>Training stopped on an error; <see cref="Exception.Message"/> is one line naming the step and the checkpoint kept.</summary>
public sealed class TrainingFailedException(string message, Exception inner) : Exception(message, inner);

/// <summary>The loss became NaN or infinite; the step is not applied.</summary>
public sealed class NonFiniteLossException(long iteration, double loss) : Exception($"loss is {loss} at step {iteration}");
