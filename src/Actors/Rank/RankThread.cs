using System.Collections.Concurrent;

namespace Orchestrator.Actors.Rank;

/// <summary>
/// One dedicated thread per rank for all of its TorchSharp work: calls block for the length of a step,
/// dispose scopes are per thread, and the actor's mailbox must stay free. Work is queued in order and
/// reports its own outcome (by telling an actor).
/// </summary>
internal sealed class RankThread : IDisposable
{
    private readonly BlockingCollection<Action> _work = new();
    private readonly Thread _thread;

    public RankThread(string name)
    {
        // A background thread: a rank hung in native code must not keep the process alive.
        _thread = new Thread(Loop) { IsBackground = true, Name = name };
        _thread.Start();
    }

    /// <summary>Queues work whose outcome the work itself reports.</summary>
    public void Post(Action work) => _work.Add(work);

    /// <summary>Lets queued work finish on the thread, then ends it; never blocks the caller.</summary>
    public void Dispose() => _work.CompleteAdding();

    private void Loop()
    {
        foreach (var work in _work.GetConsumingEnumerable())
        {
            work();
        }
        _work.Dispose();
    }
}
