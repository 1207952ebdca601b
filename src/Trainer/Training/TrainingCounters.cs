namespace Orchestrator.Trainer.Training;

/// <summary>How far training has gone: steps taken, the current epoch, samples seen (DI-engine's CountVar).</summary>
public sealed record TrainingCounters(long Iteration, long Epoch, long SamplesSeen)
{
    public static readonly TrainingCounters Zero = new(0, 0, 0);
}
