using static TorchSharp.torch;

namespace Orchestrator.Trainer.Training;

/// <summary>
/// Drives an optimizer's learning rate from a schedule. Its state is its own step count, separate from the
/// training iteration, so resuming without scheduler state restarts the schedule (a warm restart).
/// </summary>
public sealed class LearningRateScheduler(optim.Optimizer optimizer, LearningRateSchedule schedule)
{
    public long StepsTaken { get; set; }

    public double Current => schedule.At(StepsTaken);

    public LearningRateSchedule Schedule => schedule;

    /// <summary>Sets the rate for the coming step.</summary>
    public void Apply()
    {
        var rate = Current;
        foreach (var group in optimizer.ParamGroups)
        {
            group.LearningRate = rate;
        }
    }

    public void Advance() => StepsTaken++;

    public sealed record State(long StepsTaken, string Schedule);
}
