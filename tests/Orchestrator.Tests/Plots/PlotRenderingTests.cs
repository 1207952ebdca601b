using Orchestrator.Cli.Plots;

namespace Orchestrator.Tests.Plots;

/// <summary>The drawing itself, in process: the text is really in the pixels, whatever fonts Skia knows of.</summary>
public sealed class PlotRenderingTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Rendered_png_has_its_title_and_axis_labels_drawn_in_the_registered_font()
    {
        var font = PlotFont.Find();
        var output = _temp.Sub("plot.png");

        TrainingPlotRenderer.Save(Model(), font, output);

        var titleInk = PlotImages.InkedPixels(output, 0, (int)TrainingPlotRenderer.TopMargin);
        Assert.True(titleInk > 200, $"the title band has {titleInk} inked pixels: no text was drawn with {font.RegularFile}");
        // Below the tick marks of the throughput panel (its data area ends 50 px above the bottom, the ticks
        // reach 4 px further): the step numbers and the 'step' label, nothing else.
        var axisInk = PlotImages.InkedPixels(output, TrainingPlotRenderer.Height - 45, TrainingPlotRenderer.Height);
        Assert.True(axisInk > 200, $"the step axis labels have {axisInk} inked pixels");
    }

    [Fact]
    public void A_loss_spanning_decades_is_drawn_on_a_log_scale()
    {
        var output = _temp.Sub("plot.svg");
        var model = Model() with { Loss = Enumerable.Range(1, 200).Select(i => new StepValue(i, 1000.0 / (i * i))).ToList() };

        TrainingPlotRenderer.Save(model, PlotFont.Find(), output);

        Assert.Contains("loss (log scale)", File.ReadAllText(output));
    }

    private static TrainingPlot Model()
    {
        var loss = Enumerable.Range(1, 200).Select(i => new StepValue(i, 1.0 / Math.Sqrt(i))).ToList();
        var speed = Enumerable.Range(1, 200).Select(i => new StepValue(i, 100 + (i % 7))).ToList();
        var marks = new JournalMarks(
            [new CheckpointMark(100, "iter_100", "schedule"), new CheckpointMark(200, "iter_200", "final")],
            [new FailureMark(150, FailureKind.RankFailed, "rank 0 failed")],
            [new ResumeSpan(100, 150, 49, "iter_100")],
            []);
        return new TrainingPlot("mlp, 1 rank", "completed at step 200", loss, speed, marks);
    }
}
