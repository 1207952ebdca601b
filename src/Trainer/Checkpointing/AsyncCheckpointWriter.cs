using System.Collections.Concurrent;
using System.Diagnostics;

namespace Orchestrator.Trainer.Checkpointing;

/// <summary>
/// Writes snapshots in the background, one at a time. The training thread pays only for the snapshot copy
/// plus any wait for the previous write (back-pressure); both are reported as the save's stall.
/// </summary>
/// <remarks><paramref name="completed"/>, if given, is called on the writer thread after each commit.</remarks>
public sealed class AsyncCheckpointWriter(
    CheckpointStore store, Func<CommitResult, IReadOnlyList<string>> afterCommit, Action<SaveReport>? completed = null) : IDisposable
{
    private readonly ConcurrentQueue<SaveReport> _completed = new();
    private Task? _inFlight;

    /// <summary>Blocks until no write is in flight; rethrows the failure of the last one, if it failed.</summary>
    public TimeSpan WaitForIdle()
    {
        if (_inFlight is null)
        {
            return TimeSpan.Zero;
        }
        var waited = Stopwatch.StartNew();
        var task = _inFlight;
        _inFlight = null;
        task.GetAwaiter().GetResult();
        return waited.Elapsed;
    }

    /// <summary>
    /// One save as the training thread sees it: wait for the previous write (back-pressure), capture the
    /// snapshot, start writing it, and with <paramref name="blocking"/> wait for this write too. Returns how
    /// long the caller was held (the stall).
    /// </summary>
    public TimeSpan Save(Func<CheckpointSnapshot> capture, bool blocking)
    {
        var clock = Stopwatch.StartNew();
        WaitForIdle();
        Start(capture(), clock.Elapsed, blocking);
        if (blocking)
        {
            WaitForIdle();
        }
        return clock.Elapsed;
    }

    /// <summary>Starts writing; with <paramref name="blocking"/> the write counts as stall (a synchronous save).</summary>
    public void Start(CheckpointSnapshot snapshot, TimeSpan stall, bool blocking = false)
    {
        if (_inFlight is not null)
        {
            throw new InvalidOperationException("a checkpoint write is already in flight; call WaitForIdle first");
        }
        _inFlight = Task.Factory.StartNew(() => Write(snapshot, stall, blocking), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    public bool TryTakeCompleted(out SaveReport report) => _completed.TryDequeue(out report!);

    public void Dispose()
    {
        try
        {
            WaitForIdle();
        }
        catch (Exception)
        {
            // Disposal follows a failure that was already reported; a second write error adds nothing.
        }
    }

    private void Write(CheckpointSnapshot snapshot, TimeSpan stall, bool blocking)
    {
        var clock = Stopwatch.StartNew();
        var result = store.Commit(snapshot); // computes the weights digest alongside the write
        var written = clock.Elapsed;
        var deleted = afterCommit(result);
        var report = new SaveReport(
            result.Name, snapshot.Info.Iteration, snapshot.Info.Reason, result.Bytes, blocking ? stall + written : stall, written, deleted, result.AlreadyPresent,
            result.WeightsSha256);
        _completed.Enqueue(report);
        completed?.Invoke(report);
    }
}

/// <summary>One finished save: what, how big, how long training stalled and how long the write took.</summary>
public sealed record SaveReport(
    string Name,
    long Iteration,
    string Reason,
    long Bytes,
    TimeSpan Stall,
    TimeSpan WriteDuration,
    IReadOnlyList<string> Deleted,
    bool AlreadyPresent,
    string WeightsSha256);
