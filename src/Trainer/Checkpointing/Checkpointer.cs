namespace Orchestrator.Trainer.Checkpointing;

/// <summary>
/// The named components that make up a checkpoint. Components can be added by name (a user's own state
/// included); a load may restore only some of them and reports what it did not consume.
/// </summary>
public sealed class Checkpointer
{
    private readonly Dictionary<string, ICheckpointable> _components = new(StringComparer.Ordinal);

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

    public CheckpointSnapshot Capture(CheckpointInfo info) =>
        new(info, _components.ToDictionary(c => c.Key, c => c.Value.Capture(), StringComparer.Ordinal));

    /// <summary>Restores the registered components present in the checkpoint, or only <paramref name="only"/>.</summary>
    public RestoreReport Restore(LoadedCheckpoint checkpoint, IReadOnlySet<string>? only = null)
    {
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
