using Orchestrator.Trainer.Checkpointing;

namespace Orchestrator.Trainer.Training;

/// <summary>Receives progress from a run, on the training thread; keep it cheap.</summary>
public interface ITrainingObserver
{
    void Started(RunStart start);

    void Stepped(StepReport step);

    void Saved(SaveReport save);

    void Note(string message);
}

public sealed record RunStart(string Job, long FirstIteration, long TotalIterations, string? ResumedFrom, IReadOnlyList<string> Skipped);

public sealed record StepReport(long Iteration, long TotalIterations, long Epoch, double Loss, double LearningRate, double StepsPerSecond, long Samples = 0)
{
    public double SamplesPerSecond => Samples * StepsPerSecond;
}

/// <summary>An observer that ignores everything.</summary>
public sealed class SilentObserver : ITrainingObserver
{
    public static readonly SilentObserver Instance = new();

    public void Started(RunStart start) { }
    public void Stepped(StepReport step) { }
    public void Saved(SaveReport save) { }
    public void Note(string message) { }
}
