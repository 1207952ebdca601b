using System.Runtime.InteropServices;

namespace Orchestrator.Cli.Console.Watch;

/// <summary>
/// Ctrl-C or SIGTERM ends the watch cleanly (the live view gives the terminal back); the job it watches runs
/// in another process and goes on. A second signal is left to its default action.
/// </summary>
internal sealed class WatchInterrupt : IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly PosixSignalRegistration[] _registrations;

    public WatchInterrupt() => _registrations =
    [
        PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal),
        PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal),
    ];

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
        _stop.Cancel();
    }
}
