namespace Orchestrator.Actors.Job.Checkpoints;

/// <summary>
/// How the supervisor runs a search of its checkpoint directory (listing, verifying, hashing whole
/// checkpoints) off its own thread. The real one runs it on the thread pool; protocol tests pass one they
/// hold open, so what arrives while a search runs is tested without racing it.
/// </summary>
public delegate Task<object?> DiscoveryRunner(Func<object?> find, CancellationToken cancel);

public static class DiscoveryRunners
{
    public static readonly DiscoveryRunner OnThreadPool = (find, cancel) => Task.Run(find, cancel);
}
