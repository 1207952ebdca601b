using Orchestrator.Trainer.Checkpointing;

namespace Orchestrator.Trainer.Interop;

/// <summary>
/// Where <c>--load-from</c> takes weights from: a checkpoint folder of this project, or a PyTorch state_dict
/// file (<see cref="StateDictFile"/>). Both go through the same load, so key surgery, strictness and the
/// report of missing, unexpected and mis-shaped keys are the same for either.
/// </summary>
public static class WeightsSource
{
    /// <summary>
    /// Loads the weights at <paramref name="path"/> with <paramref name="loadWeights"/> (the model only) and
    /// returns the lines to tell the user, and the name of what was loaded.
    /// </summary>
    public static (IReadOnlyList<string> Notes, string Name) Load(string path, CheckpointStore store, Func<LoadedCheckpoint, RestoreReport> loadWeights)
    {
        if (!StateDictFile.Handles(path))
        {
            var checkpoint = store.Load(path);
            return (loadWeights(checkpoint).Describe(checkpoint.Name), checkpoint.Name);
        }
        using var file = StateDictFile.Open(path);
        RestoreReport report;
        try
        {
            report = loadWeights(file.AsCheckpoint());
        }
        catch (CheckpointMismatchException e)
        {
            throw new CheckpointMismatchException($"{path}: {e.Message}");
        }
        return ([.. file.Notes, .. report.Describe(file.Name)], file.Name);
    }
}
