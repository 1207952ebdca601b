using Orchestrator.Trainer.Metrics;

namespace Orchestrator.Cli.Plots;

/// <summary>One scalar tag from a work dir's TensorBoard event files, one value per step in step order.</summary>
internal static class TensorBoardSeries
{
    public const string Loss = TensorBoardLog.LossTag;
    public const string StepsPerSecond = TensorBoardLog.StepsPerSecondTag;

    public static IReadOnlyList<StepValue> Read(string workDir, string tag) =>
        TensorBoardFiles.ReadAll(TensorBoardLog.DirectoryIn(workDir))
            .Where(e => e.Summary is not null)
            .SelectMany(e => e.Summary.Value.Where(v => v.Tag == tag).Select(v => new StepValue(e.Step, v.SimpleValue)))
            // Each step is logged once, but should a file hold it twice, the later run's value stands.
            .GroupBy(s => s.Step)
            .Select(g => g.Last())
            .OrderBy(s => s.Step)
            .ToList();

    public static bool AnyFiles(string workDir) =>
        Directory.Exists(TensorBoardLog.DirectoryIn(workDir))
        && Directory.EnumerateFiles(TensorBoardLog.DirectoryIn(workDir), TensorBoardFiles.FilePattern).Any();
}
