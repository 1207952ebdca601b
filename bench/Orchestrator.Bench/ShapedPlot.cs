using Orchestrator.Cli.Plots;
using ScottPlot;
using ScottPlot.TickGenerators;
using SkiaSharp;

namespace Orchestrator.Bench;

/// <summary>The shaped rows as a picture: seconds a step against R, one panel per link rate, written as a PNG.</summary>
internal static class ShapedPlot
{
    private const int PanelWidth = 640;
    private const int Height = 600;

    public static void Save(IReadOnlyList<ShapedPoint> points, ModelSize size, string path)
    {
        var font = PlotFont.Find();
        font.Register();
        var rates = points.Select(p => p.BitsPerSecond).Distinct().Order().ToList();
        using var surface = SKSurface.Create(new SKImageInfo(PanelWidth * rates.Count, Height)) ?? throw new InvalidOperationException("Skia could not create a drawing surface");
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        for (var i = 0; i < rates.Count; i++)
        {
            var area = new PixelRect(i * PanelWidth, (i + 1) * PanelWidth, Height, 0);
            canvas.Save();
            canvas.ClipRect(area.ToSKRect()); // a plot clears its canvas before drawing
            Panel(points.Where(p => p.BitsPerSecond == rates[i]).OrderBy(p => p.World).ToList(), size, font.Family).Render(canvas, area);
            canvas.Restore();
        }
        canvas.Flush();
        using var image = surface.Snapshot();
        using var png = image.Encode(SKEncodedImageFormat.Png, 100);
        using var file = File.Create(path);
        png.SaveTo(file);
    }

    private static Plot Panel(IReadOnlyList<ShapedPoint> points, ModelSize size, string font)
    {
        var plot = new Plot();
        plot.Font.Set(font);
        plot.Legend.FontName = font;
        plot.Legend.SetBestFontOnEachRender = false; // its script detection would leave the registered font
        plot.Title($"{size.Name} of gradients on {ShapedNetwork.Described(points[0].BitsPerSecond)} links");
        plot.XLabel("ranks R, one process and namespace each");
        plot.YLabel("seconds per step");
        var worlds = points.Select(p => (double)p.World).ToArray();
        Line(plot, worlds, points.Select(p => p.Hub.Seconds), "hub, whole step", Color.FromHex("#d62728"), LinePattern.Solid, MarkerShape.FilledCircle);
        Line(plot, worlds, points.Select(p => p.Ring.Seconds), "ring, whole step", Color.FromHex("#1f5fa8"), LinePattern.Solid, MarkerShape.FilledCircle);
        Line(plot, worlds, points.Select(p => p.Collective.Seconds), "ring all-reduce alone", Color.FromHex("#1f5fa8"), LinePattern.Dashed, MarkerShape.OpenCircle);
        Line(plot, worlds, points.Select(p => p.Compute.Seconds), "model step alone", Color.FromHex("#4a4a4a"), LinePattern.Dotted, MarkerShape.OpenSquare);
        Line(plot, worlds, points.Select(p => p.Bound), "bound 2(R-1)M/(R·B)", Color.FromHex("#2a9d4b"), LinePattern.Dashed, MarkerShape.None);
        Line(plot, worlds, points.Select(p => p.Copy.Seconds), "plain TCP copy of the ring's bytes", Color.FromHex("#2a9d4b"), LinePattern.Dotted, MarkerShape.OpenTriangleUp);
        plot.Axes.Bottom.TickGenerator = new NumericManual(worlds, worlds.Select(w => $"{w}").ToArray());
        plot.Axes.SetLimitsX(worlds.Min() - 0.5, worlds.Max() + 0.5);
        plot.Axes.SetLimitsY(0, points.Max(p => new[] { p.Hub.Seconds, p.Ring.Seconds, p.Collective.Seconds, p.Compute.Seconds, p.Bound, p.Copy.Seconds }.Max()) * 1.1);
        plot.ShowLegend(Edge.Bottom); // below the axes, where no line can run under it
        return plot;
    }

    private static void Line(Plot plot, double[] xs, IEnumerable<double> ys, string label, Color color, LinePattern pattern, MarkerShape marker)
    {
        var line = plot.Add.ScatterLine(xs, ys.ToArray(), color);
        line.LinePattern = pattern;
        line.LineWidth = 2;
        line.MarkerShape = marker;
        line.MarkerSize = 8;
        line.LegendText = label;
    }
}
