using System.Globalization;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Orchestrator.Cli.Terminal.Watch;

/// <summary>
/// The live view on a terminal, redrawn in place from each snapshot: a panel per job (state, progress bar
/// with ETA, loss with a sparkline, step rate, checkpoint and its age, restarts), and for a cluster a table
/// of nodes with their health, devices and ranks.
/// </summary>
internal static class LiveWatchLayout
{
    public const int SparklineWidth = 48;

    /// <summary>Losses kept for the sparkline: ten steps (or polls) a character.</summary>
    public const int LossesKept = 10 * SparklineWidth;
    private const int BarWidth = 40;

    public static IRenderable Render(WatchSnapshot snapshot)
    {
        List<IRenderable> parts = [.. snapshot.Jobs.Select(j => JobPanel(j, snapshot.At))];
        if (snapshot.Nodes.Length > 0)
        {
            parts.Add(NodeTable(snapshot.Nodes));
        }
        if (snapshot.Notice is { } notice)
        {
            parts.Add(new Markup($"[yellow]{Markup.Escape(notice)}[/]"));
        }
        var ending = snapshot.ExitCode is null ? "Ctrl+C leaves the watch, the job goes on" : "the job has ended";
        parts.Add(new Markup($"[grey]{Markup.Escape(snapshot.Source)} · {snapshot.At.ToString("HH:mm:ss", CultureInfo.InvariantCulture)} · {ending}[/]"));
        return new Rows(parts);
    }

    private static Panel JobPanel(JobSnapshot job, DateTimeOffset now)
    {
        var grid = new Grid().AddColumn(new GridColumn().NoWrap().PadRight(2)).AddColumn();
        Row(grid, "state", new Markup($"[{StateColour(job.State)}]{Markup.Escape(job.State)}[/]{(job.Why is { } why ? $" {Markup.Escape(why)}" : "")}"));
        var progress = new Grid().AddColumn(new GridColumn().NoWrap().PadRight(2)).AddColumn(new GridColumn().NoWrap());
        var fraction = job.Fraction is { } f ? string.Create(CultureInfo.InvariantCulture, $"  {f:0%}") : "";
        var eta = job.Eta is { } left ? $"  eta {WatchFormat.Duration(left)}" : "";
        progress.AddRow(new FractionBar(job.Fraction ?? 0, BarWidth), new Text($"step {WatchFormat.Progress(job)}{fraction}{eta}"));
        Row(grid, "progress", progress);
        var sparkline = Sparkline.Of(job.Losses, SparklineWidth);
        Row(grid, "loss", new Markup($"{WatchFormat.Loss(job.Loss)}  [cyan]{Markup.Escape(sparkline)}[/]"));
        var perRank = job.Ranks > 1 && job.StepsPerSecond is not null ? $" (each of {job.Ranks} ranks: they step together)" : "";
        Row(grid, "rate", new Text(WatchFormat.Rate(job.StepsPerSecond) + perRank));
        Row(grid, "checkpoint", new Text(WatchFormat.Checkpoint(job, now)));
        var failures = job.Failures is { } n ? $", {n} failure(s)" : "";
        Row(grid, "restarts", new Markup(job.Restarts > 0 ? $"[yellow]{job.Restarts}[/]{failures}" : $"0{failures}"));
        if (job.RankNodes.Length > 0)
        {
            Row(grid, "ranks", new Text(string.Join("  ", job.RankNodes.Select((node, rank) => $"#{rank} {WatchFormat.Node(node)}"))));
        }
        return new Panel(grid)
            .Header($" {Markup.Escape(job.Job)} · {Markup.Escape(job.WorkDir)} ")
            .Border(BoxBorder.Rounded)
            .Expand();
    }

    private static Table NodeTable(NodeSnapshot[] nodes)
    {
        var table = new Table().Border(TableBorder.Rounded).Expand()
            .AddColumn("node").AddColumn("health").AddColumn("devices").AddColumn("ranks");
        foreach (var node in nodes)
        {
            var health = $"[{HealthColour(node.Health)}]{Markup.Escape(node.Health)}[/]{(node.Problem is { } p ? $" {Markup.Escape(p)}" : "")}";
            table.AddRow(
                new Text(WatchFormat.Node(node.Address)),
                new Markup(health),
                new Text(string.Join(",", node.Devices)),
                new Text(node.Ranks.Length > 0 ? string.Join(" ", node.Ranks) : "-"));
        }
        return table;
    }

    private static void Row(Grid grid, string label, IRenderable value) => grid.AddRow(new Markup($"[grey]{label}[/]"), value);

    private static string StateColour(string state) => state switch
    {
        "running" or "training" or "starting" => "green",
        "completed" or "alreadycomplete" => "blue",
        "failed" or "refused" => "red",
        _ => "yellow",
    };

    private static string HealthColour(string health) => health switch
    {
        "up" => "green",
        "unreachable" or "refused" or "down" => "red",
        _ => "yellow",
    };
}
