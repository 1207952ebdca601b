namespace Orchestrator.Trainer.Training;

/// <summary>A learning rate as a pure function of the scheduler's step count.</summary>
public abstract record LearningRateSchedule
{
    public abstract double At(long step);
}

public sealed record ConstantLearningRate(double Rate) : LearningRateSchedule
{
    public override double At(long step) => Rate;
}

/// <summary>Multiplies the rate by <see cref="Gamma"/> every <see cref="StepSize"/> steps (PyTorch's StepLR).</summary>
public sealed record StepDecayLearningRate(double Rate, long StepSize, double Gamma) : LearningRateSchedule
{
    public override double At(long step) => Rate * Math.Pow(Gamma, step / StepSize);
}

/// <summary>Linear warm-up to <see cref="Peak"/>, then cosine decay to <see cref="Floor"/> at <see cref="TotalSteps"/>.</summary>
public sealed record WarmupCosineLearningRate(double Peak, long WarmupSteps, long TotalSteps, double Floor = 0) : LearningRateSchedule
{
    public override double At(long step)
    {
        if (step < WarmupSteps)
        {
            return Peak * (step + 1) / WarmupSteps;
        }
        var progress = Math.Min(1.0, (double)(step - WarmupSteps) / Math.Max(1, TotalSteps - WarmupSteps));
        return Floor + ((Peak - Floor) * 0.5 * (1 + Math.Cos(Math.PI * progress)));
    }
}
