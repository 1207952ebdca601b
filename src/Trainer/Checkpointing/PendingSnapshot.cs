using System.Diagnostics;
using Orchestrator.Trainer.Runtime;

namespace Orchestrator.Trainer.Checkpointing;

/// <summary>
/// A checkpoint just captured whose large tensors (parameters, optimizer moments) are still being copied on
/// a background thread while training goes on with the next forward and backward pass, which only read
/// them. The writer takes each component as soon as its copy is done (<see cref="Component"/>); anything
/// that changes those tensors (an optimizer step, a restore, freeing the model) first waits at the fence
/// (<see cref="CheckpointComponents.WaitForCapture"/>), and that wait is part of the save's stall
/// (<see cref="FenceWait"/>). A snapshot captured in place copies nothing: the writer reads the live
/// tensors, so its fence stays closed until it is released after its write.
/// </summary>
public sealed class PendingSnapshot : ISnapshotContents
{
    private readonly SnapshotBuffers? _buffers;
    private readonly Dictionary<string, ComponentState> _ready;
    private readonly Dictionary<string, Task<ComponentState>> _copies = new(StringComparer.Ordinal);
    private Task _copied = Task.CompletedTask;
    private TaskCompletionSource? _written; // in place only: the fence opens when the write is over
    private Task<string>? _digest;
    private long _fenceReachedAt;
    private long _fenceOpenedAt;
    private int _released;

    private PendingSnapshot(CheckpointInfo info, Dictionary<string, ComponentState> ready, SnapshotBuffers? buffers)
    {
        Info = info;
        _ready = ready;
        _buffers = buffers;
    }

    public CheckpointInfo Info { get; }

    /// <summary>The components captured at once, then those being copied, in the order the copier takes them.</summary>
    public IReadOnlyList<string> ComponentNames => [.. _ready.Keys.Order(StringComparer.Ordinal), .. _copies.Keys];

    /// <summary>
    /// How long the training thread waited at the fence for this copy. Known once the copy is done, and read
    /// by the writer only after its commit, by which time the next step has either waited or not needed to.
    /// </summary>
    public TimeSpan FenceWait
    {
        get
        {
            var reached = Volatile.Read(ref _fenceReachedAt);
            var opened = Volatile.Read(ref _fenceOpenedAt);
            return reached == 0 || opened <= reached ? TimeSpan.Zero : Stopwatch.GetElapsedTime(reached, opened);
        }
    }

    /// <summary>A snapshot with nothing left to copy.</summary>
    public static PendingSnapshot Completed(CheckpointSnapshot snapshot)
    {
        var pending = new PendingSnapshot(snapshot.Info, new Dictionary<string, ComponentState>(snapshot.Components, StringComparer.Ordinal), null);
        pending._fenceOpenedAt = Stopwatch.GetTimestamp();
        return pending;
    }

    /// <summary>
    /// Starts the background copy: runs each deferred part of the capture, in order, on <paramref name="copier"/>,
    /// each its own piece of work, so the writer can take a component as soon as its copy is done.
    /// </summary>
    internal static PendingSnapshot Start(
        CheckpointInfo info, Dictionary<string, ComponentState> ready, IReadOnlyList<KeyValuePair<string, Func<ComponentState>>> deferred, SnapshotBuffers buffers,
        WorkerThread copier, bool inPlace)
    {
        var pending = new PendingSnapshot(info, ready, buffers);
        if (inPlace)
        {
            pending._written = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        if (deferred.Count == 0)
        {
            pending.CopyDone();
            return pending;
        }
        foreach (var (name, finish) in deferred)
        {
            pending._copies[name] = copier.Run(finish);
        }
        // The copier works in order: this runs once every copy above has, whether or not it failed.
        pending._copied = copier.Run(pending.CopyDone);
        // The weights digest goes to the manifest. Computed by the copier right after the copy, on a thread
        // already awake, it runs while the writer writes the tensor files; a pool thread woken for it by the
        // writer started 1.2 to 2.7 ms late, and a 1 MB save waited for it.
        pending._digest = copier.Run(() => pending._copies.Values.All(c => c.IsCompletedSuccessfully) ? pending.Complete().WeightsSha256() : "");
        return pending;
    }

    public ComponentState Component(string name) =>
        _ready.TryGetValue(name, out var ready) ? ready : _copies[name].GetAwaiter().GetResult();

    /// <summary>The copier's digest; without copies there is none, and the complete snapshot (ready at once) has its own.</summary>
    public Task<string> WeightsDigest() => _digest ?? Complete().WeightsDigest();

    /// <summary>Waits for the copy and returns the whole snapshot; rethrows the copy's failure.</summary>
    public CheckpointSnapshot Complete()
    {
        var components = new Dictionary<string, ComponentState>(_ready, StringComparer.Ordinal);
        foreach (var (name, copy) in _copies)
        {
            components[name] = copy.GetAwaiter().GetResult();
        }
        return new CheckpointSnapshot(Info, components) { WeightsDigestInFlight = _digest };
    }

    /// <summary>
    /// The fence, on the training thread: blocks until the copy (in place, the write) is over, failed or
    /// not (a failure is the writer's to report). Returns how long it waited.
    /// </summary>
    internal TimeSpan WaitForCopy()
    {
        var fence = _written?.Task ?? _copied;
        if (fence.IsCompleted)
        {
            return TimeSpan.Zero;
        }
        var start = Stopwatch.GetTimestamp();
        Interlocked.CompareExchange(ref _fenceReachedAt, start, 0);
        WaitQuietly(fence);
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
        WaitQuietly(_copied); // the copy may still be writing into the arrays if it failed half-way elsewhere
        WaitQuietly(_digest); // and the digest reading them, if the write failed before it needed the digest
        _buffers?.ReturnToPool();
        if (_written is not null)
        {
            Volatile.Write(ref _fenceOpenedAt, Stopwatch.GetTimestamp());
            _written.SetResult();
        }
    }

    // The fence opens when the copy is done, unless the snapshot was captured in place: then at its release.
    private void CopyDone()
    {
        if (_written is null)
        {
            Volatile.Write(ref _fenceOpenedAt, Stopwatch.GetTimestamp());
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
            // Component() rethrows a copy's failure to whoever writes the snapshot, and the writer a digest's.
        }
    }
}
