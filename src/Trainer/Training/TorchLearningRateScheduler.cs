using Orchestrator.Trainer.Checkpointing;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Training;

/// <summary>
/// Drives one of TorchSharp's own schedulers (<c>optim.lr_scheduler</c>: StepLR, CosineAnnealingLR,
/// OneCycleLR, LinearLR, ...), stepped once per optimizer step. TorchSharp 0.107's schedulers have no state
/// dict, so the checkpoint holds the number of steps taken and the rates they produced; a restore resets
/// every group to its initial rate, builds a fresh scheduler with the job's factory and replays that many
/// steps. The replay is the same arithmetic in the same order as the original run, so it lands on the same
/// bits; it is checked against the saved rates, and a difference (the job's schedule changed) is refused.
/// </summary>
public sealed class TorchLearningRateScheduler(optim.Optimizer optimizer, Func<optim.Optimizer, optim.lr_scheduler.LRScheduler> factory)
{
    private optim.lr_scheduler.LRScheduler _scheduler = factory(optimizer);

    public long StepsTaken { get; private set; }

    /// <summary>The rate of the first parameter group, which the next step will use.</summary>
    public double Current => optimizer.ParamGroups.First().LearningRate;

    public void Step()
    {
        _scheduler.step();
        StepsTaken++;
    }

    public State Capture() => new(StepsTaken, _scheduler.GetType().Name, Rates());

    public void Restore(State saved)
    {
        if (saved.Type != _scheduler.GetType().Name || saved.LearningRates is null)
        {
            // A built-in schedule's state has no type (nor rates): it reads as null here.
            throw new CheckpointMismatchException($"checkpoint holds a {saved.Type ?? "built-in"} schedule but this job uses {_scheduler.GetType().Name}; resume with --no-scheduler-state or use the same scheduler");
        }
        Rebuild(saved.StepsTaken);
        var replayed = Rates();
        if (!replayed.SequenceEqual(saved.LearningRates))
        {
            throw new CheckpointMismatchException($"replaying {saved.StepsTaken} {saved.Type} steps gives rates [{string.Join(", ", replayed)}] but the checkpoint holds [{string.Join(", ", saved.LearningRates)}]; the job's schedule changed (resume with --no-scheduler-state to restart it)");
        }
    }

    /// <summary>
    /// Starts the schedule over (a warm restart): used when a resume restores the optimizer, whose saved
    /// options hold the rate reached, but not the scheduler (--no-scheduler-state).
    /// </summary>
    public void Restart() => Rebuild(0);

    private void Rebuild(long steps)
    {
        foreach (var group in optimizer.ParamGroups)
        {
            group.LearningRate = group.InitialLearningRate;
        }
        _scheduler = factory(optimizer);
        for (var i = 0L; i < steps; i++)
        {
            _scheduler.step();
        }
        StepsTaken = steps;
    }

    private double[] Rates() => optimizer.ParamGroups.Select(g => g.LearningRate).ToArray();

    /// <summary>What a checkpoint holds: steps taken, the scheduler's type, and each group's rate after them.</summary>
    public sealed record State(long StepsTaken, string Type, double[] LearningRates);
}
