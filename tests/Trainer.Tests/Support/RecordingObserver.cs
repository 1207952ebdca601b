using Orchestrator.Trainer.Checkpointing;
using Orchestrator.Trainer.Training;

namespace Orchestrator.Trainer.Tests.Support;

/// <summary>Keeps everything a run reports, and can act on a step (to stop a run at a chosen point).</summary>
public sealed class RecordingObserver(Action<StepReport>? onStep = null) : ITrainingObserver
{
    public List<StepReport> Steps { get; } = [];
    public List<SaveReport> Saves { get; } = [];
    public List<string> Notes { get; } = [];

    public void Started(RunStart start) { }

    public void Stepped(StepReport step)
    {
        Steps.Add(step);
        onStep?.Invoke(step);
    }

    public void Saved(SaveReport save) => Saves.Add(save);

    public void Note(string message) => Notes.Add(message);
}
