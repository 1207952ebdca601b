namespace Orchestrator.Trainer.Runtime;

/// <summary>
/// A dedicated thread for one owner's long background work (a checkpoint's copy, its write), reused from one
/// piece of work to the next and ended after an idle timeout (<see cref="DefaultIdleTimeout"/>) without any. Work this long must not
/// hold a thread-pool thread, which the actors need; but starting a thread for each piece, as
/// <c>TaskCreationOptions.LongRunning</c> does, cost 0.1 to 4 ms here, as much as the rest of a 1 MB save.
/// Work runs in the order given, one piece at a time; owners need not dispose it.
/// </summary>
public sealed class WorkerThread(string name, TimeSpan? idleTimeout = null)
{
    public static readonly TimeSpan DefaultIdleTimeout = TimeSpan.FromSeconds(30);

    private readonly TimeSpan _idleTimeout = idleTimeout ?? DefaultIdleTimeout;
    private readonly Queue<Action> _queue = new();
    private readonly object _gate = new(); // a monitor, for Wait and Pulse
    private bool _running;

    /// <summary>How many threads this worker has started so far (one, unless it went idle in between).</summary>
    public int ThreadsStarted { get; private set; }

    /// <summary>Queues <paramref name="work"/>; the task completes (or faults) when it has run.</summary>
    public Task<T> Run<T>(Func<T> work)
    {
        // Continuations run elsewhere, never on this thread; a blocked waiter is still woken at once.
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        void RunIt()
        {
            try
            {
                done.SetResult(work());
            }
            catch (Exception e)
            {
                done.SetException(e); // for the waiter to rethrow
            }
        }
        lock (_gate)
        {
            _queue.Enqueue(RunIt);
            if (_running)
            {
                Monitor.Pulse(_gate);
                return done.Task;
            }
            _running = true;
            ThreadsStarted++;
        }
        // A background thread: work stuck in native code must not keep the process alive.
        new Thread(Loop) { IsBackground = true, Name = name }.Start();
        return done.Task;
    }

    public Task Run(Action work) => Run(() =>
    {
        work();
        return true;
    });

    private void Loop()
    {
        while (TakeNext() is { } next)
        {
            next();
        }
    }

    private Action? TakeNext()
    {
        lock (_gate)
        {
            while (_queue.Count == 0)
            {
                if (!Monitor.Wait(_gate, _idleTimeout) && _queue.Count == 0)
                {
                    _running = false;
                    return null;
                }
            }
            return _queue.Dequeue();
        }
    }
}
