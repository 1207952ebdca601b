using Orchestrator.Cli.Commands;
using Orchestrator.Cli.Plots;
using Orchestrator.Tests.Support;

namespace Orchestrator.Tests.Plots;

/// <summary>
/// <c>orchestrator plot</c> on a real job with a rank crash and a process kill: the image is there and sound,
/// its text is drawn, and what it marks is what the journal (read through <c>history</c>) records.
/// </summary>
[Collection(FaultedRunCollection.Name)]
public sealed class PlotCommandTests(FaultedRun run)
{
    [Fact]
    public void Png_plot_counts_the_checkpoints_failures_and_resumes_the_journal_records()
    {
        var output = Path.Combine(run.WorkDir, "plot.png");

        var result = CliProcess.Run(["plot", "--work-dir", run.WorkDir]);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(run.Expected.SummaryLine(FaultedRun.Steps, output), result.Output.Trim());
        // The job as set up: checkpoints every 50 steps, a crash and a kill, each resumed.
        Assert.Equal((6, 2, 2), (run.Expected.Checkpoints, run.Expected.Failures, run.Expected.Resumes));
        Assert.Equal((TrainingPlotRenderer.Width, TrainingPlotRenderer.Height), PlotImages.PngSize(output));
        Assert.True(new FileInfo(output).Length > 20_000, $"{output} is only {new FileInfo(output).Length} bytes");
        var titleInk = PlotImages.InkedPixels(output, 0, (int)TrainingPlotRenderer.TopMargin);
        Assert.True(titleInk > 200, $"the title band has {titleInk} inked pixels: the plot's text was not drawn");
    }

    [Fact]
    public void Svg_plot_holds_the_titles_and_names_each_failure_at_its_step()
    {
        var output = run.Sub("plot.svg");

        var result = CliProcess.Run(["plot", "--work-dir", run.WorkDir, "--out", output]);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(run.Expected.SummaryLine(FaultedRun.Steps, output), result.Output.Trim());
        var svg = File.ReadAllText(output);
        Assert.StartsWith("<?xml", svg);
        Assert.Contains($"<svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink=\"http://www.w3.org/1999/xlink\" width=\"{TrainingPlotRenderer.Width}\" height=\"{TrainingPlotRenderer.Height}\"", svg);
        Assert.Contains("mlp, 2 ranks: loss per step (completed at step 300)", svg);
        Assert.Contains("steps per second", svg);
        Assert.Contains("rank 1 failed at 120", svg);
        Assert.Contains("process killed at 230", svg);
        Assert.Contains("checkpoint committed", svg);
    }

    [Fact]
    public void Plot_model_puts_every_mark_at_the_step_the_journal_records()
    {
        var history = JournalReader.Read(run.WorkDir, journalOption: null);

        var plot = TrainingPlot.Build(history.Events, TensorBoardSeries.Read(run.WorkDir, TensorBoardSeries.Loss), TensorBoardSeries.Read(run.WorkDir, TensorBoardSeries.StepsPerSecond));

        Assert.Equal(Enumerable.Range(1, FaultedRun.Steps).Select(i => (long)i), plot.Loss.Select(p => p.Step));
        Assert.Equal(plot.Loss.Select(p => p.Step), plot.StepsPerSecond.Select(p => p.Step));
        Assert.Equal(run.Expected.CheckpointSteps, plot.Marks.Checkpoints.Select(c => c.Step));
        Assert.Equal(run.Expected.FailureSteps, plot.Marks.Failures.Select(f => f.Step));
        Assert.Equal([FailureKind.RankFailed, FailureKind.ProcessKilled], plot.Marks.Failures.Select(f => f.Kind));
        Assert.Equal(run.Expected.FailureSteps, plot.Marks.Resumes.Select(r => r.FailureStep));
        Assert.Equal(run.Expected.StepsRedone, plot.StepsRedone);
        Assert.All(plot.Marks.Resumes, r => Assert.Contains(r.FromStep, run.Expected.CheckpointSteps));
        Assert.Empty(plot.Marks.Resizes);
    }
}
