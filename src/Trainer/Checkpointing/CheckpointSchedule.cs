namespace Orchestrator.Trainer.Checkpointing;

/// <summary>
/// When to save: every N iterations, every N epochs, every T seconds (any combination), and always the last
/// state at the end of training when <see cref="SaveLast"/> is set.
/// </summary>
public sealed record CheckpointSchedule(long? EveryIterations = null, long? EveryEpochs = null, double? EverySeconds = null, bool SaveLast = true)
{
    public void Validate()
    {
        if (EveryIterations is <= 0 || EveryEpochs is <= 0 || EverySeconds is <= 0)
        {
            throw new ArgumentException("checkpoint intervals must be positive");
        }
    }

    /// <summary>Whether the step that just finished calls for a save.</summary>
    public bool IsDue(long iteration, bool epochJustEnded, long epoch, TimeSpan sinceLastSave) =>
        (EveryIterations is { } n && iteration % n == 0)
        || (EveryEpochs is { } e && epochJustEnded && epoch % e == 0)
        || (EverySeconds is { } t && sinceLastSave.TotalSeconds >= t);
}
