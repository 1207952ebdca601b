using Spectre.Console;
using Spectre.Console.Rendering;

namespace Orchestrator.Cli.Terminal.Watch;

/// <summary>
/// Spectre's progress bar as a renderable of its own, to sit in a table cell of the live view. Spectre draws
/// its bar only as a column of a <see cref="Progress"/> display, which would take the terminal over; the
/// column renders a task on demand, so this hands it one.
/// </summary>
internal sealed class FractionBar(double fraction, int width) : Renderable
{
    private const double Scale = 1000;

    protected override Measurement Measure(RenderOptions options, int maxWidth) => new(Math.Min(width, maxWidth), Math.Min(width, maxWidth));

    protected override IEnumerable<Segment> Render(RenderOptions options, int maxWidth)
    {
        var task = new ProgressTask(0, "progress", Scale, autoStart: false) { Value = Math.Clamp(fraction, 0, 1) * Scale };
        var column = new ProgressBarColumn { Width = Math.Min(width, maxWidth) };
        return column.Render(options, task, TimeSpan.Zero).Render(options, maxWidth);
    }
}
