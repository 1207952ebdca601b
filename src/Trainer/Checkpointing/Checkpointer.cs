using Orchestrator.Trainer.Runtime;

namespace Orchestrator.Trainer.Checkpointing;

/// <summary>
/// The named components that make up a checkpoint. Components can be added by name (a user's own state
/// included); a load may restore only some of them and reports what it did not consume.
/// </summary>
/// <remarks>
/// A capture copies small state at once and leaves the copy of large tensors (<see cref="IDeferredCheckpointable"/>)
/// to a background thread. Until that copy is over, those tensors must not change: every optimizer step,
/// restore and disposal of the model or optimizer calls <see cref="WaitForCapture"/> first (restores here do).
/// Used from the training thread only.
/// </remarks>
public sealed class Checkpointer
{
    private readonly Dictionary<string, ICheckpointable> _components = new(StringComparer.Ordinal);
    private readonly HostBufferPool _buffers = new();
    private readonly WorkerThread _copier = new("checkpoint-copy");
    private PendingSnapshot? _lastCapture;

    public IReadOnlyCollection<string> ComponentNames => _components.Keys;

    public void Add(string name, ICheckpointable component)
    {
        if (string.IsNullOrWhiteSpace(name) || name.IndexOfAny(['/', '\\', '.']) >= 0)
        {
            throw new ArgumentException($"checkpointable name '{name}' must be a plain word (no dots or slashes)");
        }
        if (!_components.TryAdd(name, component))
        {
            throw new ArgumentException($"a checkpointable named '{name}' is already registered");
        }
    }

    /// <summary>
    /// Captures every component: small state now, large tensors on a background thread (see the remarks).
    /// The host arrays of a snapshot come back for later captures once it is released. With
    /// <paramref name="inPlace"/> (a save that waits for its write) a component may hand the writer its
    /// tensors where they are instead of copying them (the model's parameters), and the fence holds until
    /// the snapshot is written.
    /// </summary>
    public PendingSnapshot Capture(CheckpointInfo info, bool inPlace = false)
    {
        WaitForCapture();
        var buffers = new SnapshotBuffers(_buffers, inPlace);
        var ready = new Dictionary<string, ComponentState>(StringComparer.Ordinal);
        var deferred = new List<KeyValuePair<string, Func<ComponentState>>>();
        foreach (var (name, component) in _components)
        {
            if (component is IDeferredCheckpointable large)
            {
                deferred.Add(KeyValuePair.Create(name, large.Capture(buffers)));
            }
            else
            {
                ready[name] = component.Capture();
            }
        }
        _lastCapture = PendingSnapshot.Start(info, ready, deferred, buffers, _copier, inPlace);
        return _lastCapture;
    }

    /// <summary>
    /// The fence: blocks until the background copy of the last capture is over (for one in place, its write),
    /// so the captured tensors may change. Returns how long it waited (zero when the copy was already done).
    /// </summary>
    public TimeSpan WaitForCapture() => _lastCapture?.WaitForCopy() ?? TimeSpan.Zero;

    /// <summary>Restores the registered components present in the checkpoint, or only <paramref name="only"/>.</summary>
    public RestoreReport Restore(LoadedCheckpoint checkpoint, IReadOnlySet<string>? only = null)
    {
        WaitForCapture();
        var restored = new List<string>();
        var notes = new List<string>();
        var missing = new List<string>();
        foreach (var (name, component) in _components)
        {
            if (only is not null && !only.Contains(name))
            {
                continue;
            }
            if (!checkpoint.Components.TryGetValue(name, out var state))
            {
                missing.Add(name);
                continue;
            }
            notes.AddRange(component.Restore(state));
            restored.Add(name);
        }
        var unconsumed = checkpoint.Components.Keys.Where(k => !restored.Contains(k)).Order(StringComparer.Ordinal).ToList();
        return new RestoreReport(restored, unconsumed, missing, notes);
    }
}

/// <summary>What a restore did: restored components, saved ones left unconsumed, registered ones absent.</summary>
public sealed record RestoreReport(
    IReadOnlyList<string> Restored,
    IReadOnlyList<string> Unconsumed,
    IReadOnlyList<string> Missing,
    IReadOnlyList<string> Notes);
