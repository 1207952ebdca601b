using Orchestrator.Cli.Plots;

namespace Orchestrator.Cli.Commands;

/// <summary><c>orchestrator plot --work-dir DIR</c>: loss and throughput per step with the journal's checkpoints, failures and resumes, as PNG or SVG.</summary>
internal static class PlotCommand
{
    public const string Help = """
        usage: orchestrator plot --work-dir DIR [--journal sqlite|sqlite:FILE|postgres:CONNECTION] [--out FILE.png|FILE.svg]

        Draws the job's training into one image (default DIR/plot.png):
          top     the loss per step (TensorBoard files in DIR/tensorboard), with checkpoints committed
                  (green dashed lines), failures (red markers: rank failed, process killed) and, shaded,
                  the steps redone after each resume, from the checkpoint resumed from to the failure
          bottom  throughput in steps per second against step
        Text needs a font file: the first of DejaVu Sans, Liberation Sans, Noto Sans... found under the
        system's font folders, or the file named by ORCHESTRATOR_PLOT_FONT.
        """;

    private static readonly HashSet<string> ValueOptions = [.. JournalReader.ValueOptions, "--out"];

    public static int Run(IReadOnlyList<string> args)
    {
        var parsed = ParsedArguments.Parse("plot", args, ValueOptions, new HashSet<string>());
        if (parsed.Positionals.Count > 0)
        {
            throw new UsageException($"unexpected argument '{parsed.Positionals[0]}' (orchestrator plot --work-dir DIR [--out FILE.png])");
        }
        var workDir = WorkDirCheck.FullPath("--work-dir", parsed.Value("--work-dir") ?? throw new UsageException("--work-dir is required (orchestrator plot --work-dir DIR)"));
        WorkDirCheck.RequireReadableWorkDir(workDir);
        if (!Directory.Exists(workDir))
        {
            throw new UsageException($"work dir {workDir} does not exist (give the --work-dir of a 'train' run)");
        }
        var output = parsed.Value("--out") is { } outPath ? WorkDirCheck.FullPath("--out", outPath) : Path.Combine(workDir, "plot.png");
        if (!TrainingPlotRenderer.Extensions.Contains(Path.GetExtension(output).ToLowerInvariant()))
        {
            throw new UsageException($"--out {output}: unknown image type '{Path.GetExtension(output)}' (use .png or .svg)");
        }
        if (Path.GetDirectoryName(output) is { } folder && !Directory.Exists(folder))
        {
            throw new UsageException($"--out {output}: folder {folder} does not exist");
        }
        if (!TensorBoardSeries.AnyFiles(workDir))
        {
            throw new UsageException($"no TensorBoard files in {Path.Combine(workDir, "tensorboard")} (train writes them; was this work dir trained by an older version?)");
        }
        var font = PlotFont.Find();
        var history = JournalReader.Read(workDir, parsed.Value("--journal"));

        var loss = TensorBoardSeries.Read(workDir, TensorBoardSeries.Loss);
        if (loss.Count == 0)
        {
            throw new UsageException($"the TensorBoard files in {Path.Combine(workDir, "tensorboard")} hold no {TensorBoardSeries.Loss} values yet");
        }
        var plot = TrainingPlot.Build(history.Events, loss, TensorBoardSeries.Read(workDir, TensorBoardSeries.StepsPerSecond));
        TrainingPlotRenderer.Save(plot, font, output);
        Console.WriteLine(plot.Summary(output));
        return ExitCodes.Ok;
    }
}
