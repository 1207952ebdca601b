using System.Runtime.InteropServices;
using Orchestrator.Trainer.Runtime;

namespace Orchestrator.Cli.Terminal;

/// <summary>
/// Turns the first Ctrl-C or SIGTERM into a request to stop: for a job, to checkpoint and stop at the next
/// step boundary; for a watch, to give the terminal back (the job it watches goes on). A second signal ends
/// the process at once, and so does the <c>deadline</c> after the first: whatever is stuck (a hung rank, a
/// journal that does not answer, a read that does not end), a stop always stops. Committed checkpoints are
/// never touched by either, so a rerun resumes from the newest.
/// </summary>
internal sealed class StopSignals : IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly List<PosixSignalRegistration> _registrations = [];
    private readonly Action? _onStop;
    private readonly bool _announce;
    private readonly string _announcement;
    private readonly TimeSpan? _deadline;
    private Timer? _watchdog;

    /// <param name="announce">Say what the stop does; false for a watch, which saves nothing.</param>
    /// <param name="announcement">What the stop does, when it is not a job's checkpoint (a node leaves the cluster).</param>
    /// <param name="deadline">How long after the first signal the process may take to end before it is ended without a save.</param>
    public StopSignals(Action? onStop = null, bool announce = true, string? announcement = null, TimeSpan? deadline = null)
    {
        _onStop = onStop;
        _announce = announce;
        _announcement = announcement ?? "saving a checkpoint at the next step boundary, then stopping";
        _deadline = deadline;
        foreach (var signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM })
        {
            _registrations.Add(PosixSignalRegistration.Create(signal, OnSignal));
        }
    }

    public CancellationToken Token => _stop.Token;

    public void Dispose()
    {
        _watchdog?.Dispose();
        foreach (var registration in _registrations)
        {
            registration.Dispose();
        }
        _stop.Dispose();
    }

    private void OnSignal(PosixSignalContext context)
    {
        context.Cancel = true;
        if (_stop.IsCancellationRequested)
        {
            ExitNow($"{context.Signal} again: exiting now without a checkpoint (the committed ones are intact)");
            return;
        }
        if (_announce)
        {
            Console.Error.WriteLine($"\n{context.Signal}: {_announcement} (send again to exit at once)");
        }
        if (_deadline is { } deadline)
        {
            _watchdog = new Timer(_ => ExitNow(
                $"error: the job did not stop within {deadline.TotalSeconds:0} s of {context.Signal}; exiting without a checkpoint (the committed ones are intact; rerun to resume)"),
                null, deadline, Timeout.InfiniteTimeSpan);
        }
        _stop.Cancel();
        _onStop?.Invoke();
    }

    /// <summary>
    /// Ends the process with exit code 130 (interrupted) without running shutdown handlers: the actor system's
    /// own shutdown is what may be stuck, and so may threads in native code that Environment.Exit would wait on.
    /// </summary>
    private static void ExitNow(string line)
    {
        Console.Error.WriteLine(line);
        Console.Error.Flush();
        Console.Out.Flush();
        ImmediateExit.Now(Commands.ExitCodes.Interrupted);
    }
}
