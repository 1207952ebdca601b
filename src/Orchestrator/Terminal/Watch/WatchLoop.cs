using System.Diagnostics;
using Orchestrator.Cli.Commands;
using Spectre.Console;

namespace Orchestrator.Cli.Terminal.Watch;

/// <summary>
/// Polls a source every interval and shows each snapshot, until the watched job reaches a final state (exit
/// with that state's code) or the user interrupts (130, the shell's code for Ctrl-C).
/// </summary>
internal static class WatchLoop
{
    /// <summary>The live view needs a terminal that takes cursor movement; anything else (a file, a pipe, CI) gets lines.</summary>
    public static bool TerminalCanRedraw =>
        !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities is { Ansi: true, Interactive: true };

    public static int Plain(IWatchSource source, TimeSpan interval, TextWriter output, CancellationToken stop)
    {
        var view = new PlainWatchView(output);
        return Follow(source, interval, view.Show, stop);
    }

    public static int Live(IWatchSource source, TimeSpan interval, CancellationToken stop) =>
        AnsiConsole.Live(new Spectre.Console.Text(""))
            .AutoClear(false)
            .Overflow(VerticalOverflow.Ellipsis)
            .Start(context => Follow(source, interval, snapshot =>
            {
                context.UpdateTarget(LiveWatchLayout.Render(snapshot));
                context.Refresh();
            }, stop));

    private static int Follow(IWatchSource source, TimeSpan interval, Action<WatchSnapshot> show, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            var polled = Stopwatch.StartNew();
            var snapshot = source.Poll();
            show(snapshot);
            if (snapshot.ExitCode is { } code)
            {
                return code;
            }
            var rest = interval - polled.Elapsed;
            if (rest > TimeSpan.Zero)
            {
                stop.WaitHandle.WaitOne(rest); // the refresh interval, or sooner on Ctrl-C
            }
        }
        return ExitCodes.Interrupted;
    }
}
