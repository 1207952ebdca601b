using System.Runtime.InteropServices;

namespace Orchestrator.Cli.Console;

/// <summary>
/// Turns the first Ctrl-C or SIGTERM into a request to stop: for a job, to checkpoint and stop at the next
/// step boundary; for a watch, to give the terminal back (the job it watches goes on). A second signal is
/// left to its default action, so a stuck process can still be killed.
/// </summary>
internal sealed class StopSignals : IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly List<PosixSignalRegistration> _registrations = [];
    private readonly Action? _onStop;
    private readonly bool _announce;
    private readonly string _announcement;

    /// <param name="announce">Say what the stop does; false for a watch, which saves nothing.</param>
    /// <param name="announcement">What the stop does, when it is not a job's checkpoint (a node leaves the cluster).</param>
    public StopSignals(Action? onStop = null, bool announce = true, string? announcement = null)
    {
        _onStop = onStop;
        _announce = announce;
        _announcement = announcement ?? "saving a checkpoint at the next step boundary, then stopping";
        foreach (var signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM })
        {
            _registrations.Add(PosixSignalRegistration.Create(signal, OnSignal));
        }
    }

    public CancellationToken Token => _stop.Token;

    public void Dispose()
    {
        foreach (var registration in _registrations)
        {
            registration.Dispose();
        }
        _stop.Dispose();
    }

    private void OnSignal(PosixSignalContext context)
    {
        if (_stop.IsCancellationRequested)
        {
            return;
        }
        context.Cancel = true;
        if (_announce)
        {
            System.Console.Error.WriteLine($"\n{context.Signal}: {_announcement} (send again to kill)");
        }
        _stop.Cancel();
        _onStop?.Invoke();
    }
}
