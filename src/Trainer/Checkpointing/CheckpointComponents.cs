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
public sealed class CheckpointComponents
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
        // What may refuse its state goes first: a refusal then leaves every component as it was.
        foreach (var (name, component) in _components.OrderBy(c => c.Value is IRefusedOnRestore ? 0 : 1))
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
            try
            {
                notes.AddRange(component.Restore(state));
            }
            catch (CorruptCheckpointException e)
            {
                // The component says what is wrong with its blob; the file and checkpoint are named here.
                throw new CorruptCheckpointException($"{checkpoint.Name}: {CheckpointFormat.BlobFileFor(name)} {e.Message}");
            }
            restored.Add(name);
        }
        var unconsumed = checkpoint.Components.Keys.Where(k => !restored.Contains(k)).Order(StringComparer.Ordinal).ToList();
        return new RestoreReport(restored, unconsumed, missing, notes)
        {
            LeftOut = unconsumed.Where(_components.ContainsKey).ToList(),
        };
    }
}

/// <summary>What a restore did: restored components, saved ones left unconsumed, registered ones absent.</summary>
public sealed record RestoreReport(
    IReadOnlyList<string> Restored,
    IReadOnlyList<string> Unconsumed,
    IReadOnlyList<string> Missing,
    IReadOnlyList<string> Notes)
{
    /// <summary>Unconsumed components that this job has but the load was told to leave out (--no-optimizer-state, say).</summary>
    public IReadOnlyList<string> LeftOut { get; init; } = [];

    /// <summary>Unconsumed components that nothing in this job reads: state a partial load drops.</summary>
    public IReadOnlyList<string> Unused => Unconsumed.Except(LeftOut, StringComparer.Ordinal).ToList();

    /// <summary>
    /// The report as lines for the user: the components' own notes (keys a non-strict load skipped), then what
    /// the checkpoint lacks and what it holds that this job does not use. Empty when the load was complete.
    /// </summary>
    public IReadOnlyList<string> Describe(string checkpointName)
    {
        var lines = new List<string>(Notes);
        if (Missing.Count > 0)
        {
            lines.Add($"checkpoint {checkpointName} lacks {string.Join(", ", Missing)}; those start fresh");
        }
        if (Unused.Count > 0)
        {
            lines.Add($"checkpoint {checkpointName} holds {string.Join(", ", Unused)}, which this job does not use; left unloaded");
        }
        return lines;
    }
}
