using System.Diagnostics;
using Orchestrator.Trainer.Runtime;

namespace Orchestrator.Trainer.Checkpointing;

/// <summary>
/// A checkpoint just captured whose large tensors (parameters, optimizer moments) are still being copied on
/// a background thread while training goes on with the next forward and backward pass, which only read
/// them. The writer waits for the copy (<see cref="Complete"/>); anything that changes those tensors (an
/// optimizer step, a restore, freeing the model) first waits at the fence
/// (<see cref="Checkpointer.WaitForCapture"/>), and that wait is part of the save's stall
/// (<see cref="FenceWait"/>).
/// </summary>
public sealed class PendingSnapshot
{
    private readonly SnapshotBuffers? _buffers;
    private Task<CheckpointSnapshot> _copy = null!;
    private Task<string>? _digest;
    private long _fenceReachedAt;
    private long _copiedAt;
    private int _released;

    private PendingSnapshot(CheckpointInfo info, SnapshotBuffers? buffers)
    {
        Info = info;
        _buffers = buffers;
    }

    public CheckpointInfo Info { get; }

    /// <summary>
    /// How long the training thread waited at the fence for this copy. Known once the copy is done, and read
    /// by the writer only after its commit, by which time the next step has either waited or not needed to.
    /// </summary>
    public TimeSpan FenceWait
    {
        get
        {
            var reached = Volatile.Read(ref _fenceReachedAt);
            var copied = Volatile.Read(ref _copiedAt);
            return reached == 0 || copied <= reached ? TimeSpan.Zero : Stopwatch.GetElapsedTime(reached, copied);
        }
    }

    /// <summary>A snapshot with nothing left to copy.</summary>
    public static PendingSnapshot Completed(CheckpointSnapshot snapshot)
    {
        var pending = new PendingSnapshot(snapshot.Info, null) { _copy = Task.FromResult(snapshot) };
        pending._copiedAt = Stopwatch.GetTimestamp();
        return pending;
    }

    /// <summary>Starts the background copy: runs each deferred part of the capture, in order, on <paramref name="copier"/>.</summary>
    internal static PendingSnapshot Start(
        CheckpointInfo info, Dictionary<string, ComponentState> ready, IReadOnlyList<KeyValuePair<string, Func<ComponentState>>> deferred, SnapshotBuffers buffers,
        WorkerThread copier)
    {
        if (deferred.Count == 0)
        {
            return Completed(new CheckpointSnapshot(info, ready));
        }
        var pending = new PendingSnapshot(info, buffers);
        var copy = copier.Run(() => pending.Copy(ready, deferred));
        pending._copy = copy;
        // The weights digest goes to checkpoint.json. Computed by the copier right after the copy, on a thread
        // already awake, it runs while the writer writes the tensor files; a pool thread woken for it by the
        // writer started 1.2 to 2.7 ms late, and a 1 MB save waited for it.
        pending._digest = copier.Run(() => copy.IsCompletedSuccessfully ? copy.Result.WeightsSha256() : "");
        return pending;
    }

    /// <summary>Waits for the copy and returns the whole snapshot; rethrows the copy's failure.</summary>
    public CheckpointSnapshot Complete() => _copy.GetAwaiter().GetResult() with { WeightsDigestInFlight = _digest };

    /// <summary>
    /// The fence, on the training thread: blocks until the copy is over, failed or not (a failure is the
    /// writer's to report). Returns how long it waited.
    /// </summary>
    internal TimeSpan WaitForCopy()
    {
        if (_copy.IsCompleted)
        {
            return TimeSpan.Zero;
        }
        var start = Stopwatch.GetTimestamp();
        Interlocked.CompareExchange(ref _fenceReachedAt, start, 0);
        WaitQuietly(_copy);
        return Stopwatch.GetElapsedTime(start);
    }

    /// <summary>
    /// Hands the snapshot's host arrays back for the next capture; call once nothing reads the snapshot any
    /// more (the writer does, after its commit). A second call does nothing.
    /// </summary>
    public void Release()
    {
        if (Interlocked.Exchange(ref _released, 1) != 0)
        {
            return;
        }
        WaitQuietly(_copy); // the copy may still be writing into the arrays if it failed half-way elsewhere
        WaitQuietly(_digest); // and the digest reading them, if the write failed before it needed the digest
        _buffers?.ReturnToPool();
    }

    private CheckpointSnapshot Copy(Dictionary<string, ComponentState> ready, IReadOnlyList<KeyValuePair<string, Func<ComponentState>>> deferred)
    {
        try
        {
            var components = new Dictionary<string, ComponentState>(ready, StringComparer.Ordinal);
            foreach (var (name, finish) in deferred)
            {
                components[name] = finish();
            }
            return new CheckpointSnapshot(Info, components);
        }
        finally
        {
            Volatile.Write(ref _copiedAt, Stopwatch.GetTimestamp());
        }
    }

    private static void WaitQuietly(Task? task)
    {
        try
        {
            task?.Wait();
        }
        catch (AggregateException)
        {
            // Complete() rethrows a copy's failure to whoever writes the snapshot, and the writer a digest's.
        }
    }
}
