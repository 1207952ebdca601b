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

    /// <param name="announce">Say that a checkpoint is coming (a job); false for a watch, which saves nothing.</param>
    public StopSignals(Action? onStop = null, bool announce = true)
    {
        _onStop = onStop;
        _announce = announce;
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
            System.Console.Error.WriteLine($"\n{context.Signal}: saving a checkpoint at the next step boundary, then stopping (send again to kill)");
        }
        _stop.Cancel();
        _onStop?.Invoke();
    }
}
