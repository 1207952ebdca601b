using ScottPlot;
using ScottPlot.TickGenerators;
using SkiaSharp;

namespace Orchestrator.Cli.Plots;

/// <summary>
/// Draws a <see cref="TrainingPlot"/> with ScottPlot: the loss with checkpoints, failures and redone steps
/// on top, throughput below, on a shared step axis, into a PNG or an SVG.
/// </summary>
internal static class TrainingPlotRenderer
{
    public const int Width = 1200;
    public const int Height = 800;
    public static readonly IReadOnlyList<string> Extensions = [".png", ".svg"];

    // Both panels get the same fixed margins so their step axes line up exactly; the title sits in the top one.
    public const float TopMargin = 44;
    private static readonly PixelPadding Margins = new(left: 80, right: 30, bottom: 50, top: TopMargin);
    private const float LossShare = 0.62f;

    private static readonly Color LossColor = Color.FromHex("#1f5fa8");
    private static readonly Color ThroughputColor = Color.FromHex("#4a4a4a");
    private static readonly Color CheckpointColor = Color.FromHex("#2a9d4b");
    private static readonly Color FailureColor = Color.FromHex("#d62728");
    private static readonly Color RedoneColor = Color.FromHex("#ff8c1a").WithAlpha(0.22);
    private static readonly Color ResizeColor = Color.FromHex("#7b3fb5");

    /// <summary>Writes the plot to <paramref name="path"/>, PNG or SVG by its extension.</summary>
    public static void Save(TrainingPlot model, PlotFont font, string path)
    {
        font.Register();
        var (loss, throughput) = (LossPanel(model, font.Family), ThroughputPanel(model, font.Family));
        var top = new PixelRect(0, Width, Height * LossShare, 0);
        var bottom = new PixelRect(0, Width, Height, Height * LossShare);
        if (Path.GetExtension(path).Equals(".svg", StringComparison.OrdinalIgnoreCase))
        {
            using var stream = File.Create(path);
            using var svg = SKSvgCanvas.Create(new SKRect(0, 0, Width, Height), stream);
            Draw(svg, loss, top, throughput, bottom);
            return;
        }
        using var surface = SKSurface.Create(new SKImageInfo(Width, Height)) ?? throw new InvalidOperationException("Skia could not create a drawing surface");
        Draw(surface.Canvas, loss, top, throughput, bottom);
        using var image = surface.Snapshot();
        using var png = image.Encode(SKEncodedImageFormat.Png, 100);
        using var file = File.Create(path);
        png.SaveTo(file);
    }

    private static void Draw(SKCanvas canvas, Plot loss, PixelRect top, Plot throughput, PixelRect bottom)
    {
        canvas.Clear(SKColors.White);
        foreach (var (plot, area) in new[] { (loss, top), (throughput, bottom) })
        {
            // A plot clears its canvas before drawing: the clip keeps each to its own panel.
            canvas.Save();
            canvas.ClipRect(area.ToSKRect());
            plot.Render(canvas, area);
            canvas.Restore();
        }
        canvas.Flush();
    }

    private static Plot LossPanel(TrainingPlot model, string font)
    {
        var plot = Panel(font);
        var scale = LossScale.For(model.Loss);
        plot.Title($"{model.Job}: loss per step ({model.Outcome})");
        plot.YLabel(scale.Label);
        plot.XLabel("step");
        if (scale.Logarithmic)
        {
            plot.Axes.Left.TickGenerator = new NumericAutomatic
            {
                MinorTickGenerator = new LogMinorTickGenerator(),
                IntegerTicksOnly = true,
                LabelFormatter = y => Math.Pow(10, y).ToString("g3", System.Globalization.CultureInfo.InvariantCulture),
            };
        }

        var first = true;
        foreach (var resume in model.Marks.Resumes)
        {
            var span = plot.Add.HorizontalSpan(resume.FromStep, resume.FailureStep, RedoneColor);
            span.LineWidth = 0;
            span.LegendText = first ? "steps redone after a resume" : "";
            first = false;
        }
        AddCheckpointLines(plot, model, withLegend: true);
        AddResizeLines(plot, model, withLegend: true);

        var line = plot.Add.ScatterLine(model.Loss.Select(p => (double)p.Step).ToArray(), model.Loss.Select(p => scale.Y(p.Value)).ToArray(), LossColor);
        line.LineWidth = 1.5f;
        line.LegendText = "loss";

        var failures = model.Marks.Failures;
        if (failures.Count > 0)
        {
            var ys = failures.Select(f => scale.Y(LossAt(model.Loss, f.Step))).ToArray();
            var markers = plot.Add.Markers(failures.Select(f => (double)f.Step).ToArray(), ys, MarkerShape.FilledTriangleDown, 13, FailureColor);
            markers.LegendText = "failure (rank failed, process killed)";
            for (var i = 0; i < failures.Count && failures.Count <= MostLabels; i++)
            {
                var label = plot.Add.Text($"{failures[i].Label} at {failures[i].Step}", failures[i].Step, ys[i]);
                label.LabelFontColor = FailureColor;
                label.LabelFontSize = 12;
                label.LabelBold = true;
                label.LabelAlignment = Alignment.LowerCenter;
                label.LabelOffsetY = -12;
                label.LabelBackgroundColor = Colors.White.WithAlpha(0.85);
                label.LabelBorderColor = FailureColor;
                label.LabelBorderWidth = 1;
                label.LabelPadding = 3;
            }
        }
        SetStepLimits(plot, model);
        LabelRedoneSpans(plot, model);
        plot.ShowLegend(Alignment.UpperRight);
        return plot;
    }

    /// <summary>"N redone" at the top of each shaded span, once the y range is known.</summary>
    private static void LabelRedoneSpans(Plot plot, TrainingPlot model)
    {
        var resumes = model.Marks.Resumes;
        var top = plot.Axes.GetLimits().Top;
        for (var i = 0; i < resumes.Count && resumes.Count <= MostLabels; i++)
        {
            var label = plot.Add.Text($"{resumes[i].StepsRedone} redone", (resumes[i].FromStep + resumes[i].FailureStep) / 2.0, top);
            label.LabelFontColor = Color.FromHex("#a0520a");
            label.LabelFontSize = 11;
            label.LabelAlignment = Alignment.UpperCenter;
            label.LabelOffsetY = 4;
        }
    }

    private static Plot ThroughputPanel(TrainingPlot model, string font)
    {
        var plot = Panel(font);
        plot.Title("throughput");
        plot.YLabel("steps per second");
        plot.XLabel("step");
        AddCheckpointLines(plot, model, withLegend: false);
        AddResizeLines(plot, model, withLegend: false);
        foreach (var failure in model.Marks.Failures)
        {
            plot.Add.VerticalLine(failure.Step, 1, FailureColor.WithAlpha(0.6), LinePattern.Dotted);
        }
        var steps = model.StepsPerSecond.Select(p => (double)p.Step).ToArray();
        var raw = plot.Add.ScatterLine(steps, model.StepsPerSecond.Select(p => p.Value).ToArray(), ThroughputColor.WithAlpha(0.35));
        raw.LineWidth = 1;
        raw.LegendText = "each step";
        // One step's rate swings with the scheduler; a running mean shows the trend and the dips.
        var mean = plot.Add.ScatterLine(steps, RunningMean(model.StepsPerSecond, ThroughputWindow), ThroughputColor);
        mean.LineWidth = 2;
        mean.LegendText = $"mean of {ThroughputWindow} steps";
        plot.ShowLegend(Alignment.UpperRight);
        SetStepLimits(plot, model);
        var values = model.StepsPerSecond.Select(p => p.Value).Where(double.IsFinite).ToList();
        plot.Axes.SetLimitsY(0, values.Count > 0 ? values.Max() * 1.3 : 1); // headroom for the legend
        return plot;
    }

    private const int ThroughputWindow = 20;
    private const int MostLabels = 12; // failures and spans are named one by one up to this many

    private static double[] RunningMean(IReadOnlyList<StepValue> series, int window)
    {
        var means = new double[series.Count];
        var sum = 0.0;
        for (var i = 0; i < series.Count; i++)
        {
            sum += series[i].Value;
            if (i >= window)
            {
                sum -= series[i - window].Value;
            }
            means[i] = sum / Math.Min(i + 1, window);
        }
        return means;
    }

    private static Plot Panel(string font)
    {
        var plot = new Plot();
        plot.Font.Set(font);
        plot.Legend.FontName = font;
        plot.Legend.SetBestFontOnEachRender = false; // its script detection would leave our registered font
        plot.Layout.Fixed(Margins);
        return plot;
    }

    private static void AddCheckpointLines(Plot plot, TrainingPlot model, bool withLegend)
    {
        for (var i = 0; i < model.Marks.Checkpoints.Count; i++)
        {
            var line = plot.Add.VerticalLine(model.Marks.Checkpoints[i].Step, 1, CheckpointColor, LinePattern.Dashed);
            line.LegendText = withLegend && i == 0 ? "checkpoint committed" : "";
        }
    }

    private static void AddResizeLines(Plot plot, TrainingPlot model, bool withLegend)
    {
        for (var i = 0; i < model.Marks.Resizes.Count; i++)
        {
            var line = plot.Add.VerticalLine(model.Marks.Resizes[i].Step, 2, ResizeColor, LinePattern.Dotted);
            line.LegendText = withLegend && i == 0 ? "world resized" : "";
        }
    }

    private static void SetStepLimits(Plot plot, TrainingPlot model)
    {
        var last = new[] { model.Loss.LastOrDefault()?.Step ?? 0, model.Marks.Checkpoints.LastOrDefault()?.Step ?? 0 }.Max();
        plot.Axes.AutoScale();
        plot.Axes.SetLimitsX(0, Math.Max(1, last));
    }

    /// <summary>The loss at <paramref name="step"/>, or at the nearest step logged before it.</summary>
    private static double LossAt(IReadOnlyList<StepValue> loss, long step) =>
        loss.LastOrDefault(p => p.Step <= step)?.Value ?? loss.FirstOrDefault()?.Value ?? 0;

    /// <summary>Linear, or log10 when the loss spans more than two decades (a linear axis would show a spike and a flat line).</summary>
    private sealed record LossScale(bool Logarithmic)
    {
        public string Label => Logarithmic ? "loss (log scale)" : "loss";

        public double Y(double value) => Logarithmic ? Math.Log10(Math.Max(value, 1e-12)) : value;

        public static LossScale For(IReadOnlyList<StepValue> loss)
        {
            var positive = loss.Select(p => p.Value).Where(v => v > 0 && double.IsFinite(v)).ToList();
            return new LossScale(positive.Count > 1 && positive.Count == loss.Count && positive.Max() / positive.Min() > 100);
        }
    }
}
