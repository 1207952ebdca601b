using Orchestrator.Trainer.Tensors;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Checkpointing;

/// <summary>
/// A model's parameters and buffers (BatchNorm statistics included). Restores on CPU copies then copies into
/// the live tensors wherever they are, which is what maps a GPU checkpoint onto a CPU run and back.
/// </summary>
public sealed class ModelCheckpointable(nn.Module model, ModelLoadOptions loadOptions) : IDeferredCheckpointable
{
    public const string ComponentName = "model";

    public ComponentState Capture() =>
        new(model.state_dict().Select(e => KeyValuePair.Create(e.Key, HostTensor.Copy(e.Value))).ToList(), null, null);

    /// <summary>
    /// Buffers are copied now: a forward pass in training mode updates BatchNorm's running statistics.
    /// Parameters change only in the optimizer step, so their bytes are copied later, in the background, or
    /// not at all when the snapshot is written in place.
    /// </summary>
    public Func<ComponentState> Capture(SnapshotBuffers buffers)
    {
        var parameters = model.named_parameters().Select(p => p.name).ToHashSet(StringComparer.Ordinal);
        var tensors = new List<KeyValuePair<string, HostTensor>>();
        var copies = new List<Action>();
        foreach (var (name, tensor) in model.state_dict())
        {
            if (!parameters.Contains(name))
            {
                tensors.Add(KeyValuePair.Create(name, HostTensor.Copy(tensor)));
                continue;
            }
            if (buffers.InPlace)
            {
                tensors.Add(KeyValuePair.Create(name, HostTensor.View(tensor)));
                continue;
            }
            var (host, copy) = HostTensor.CopyLater(tensor, buffers.Rent);
            tensors.Add(KeyValuePair.Create(name, host));
            copies.Add(copy);
        }
        return () =>
        {
            foreach (var copy in copies)
            {
                copy();
            }
            return new ComponentState(tensors, null, null);
        };
    }

    public IReadOnlyList<string> Restore(ComponentState state)
    {
        var live = model.state_dict();
        var plan = ModelLoadPlan.Build(state.Tensors, live, loadOptions);
        if (loadOptions.Strict && !plan.IsExact)
        {
            throw new CheckpointMismatchException($"checkpoint does not fit the model: {plan.Describe()} (use a checkpoint of this model, or load non-strict with key surgery)");
        }
        using (no_grad())
        {
            foreach (var (name, saved) in plan.Loadable)
            {
                using var source = saved.ToTensor();
                live[name].copy_(source);
            }
        }
        return plan.IsExact ? [] : [$"non-strict load: {plan.Describe()}"];
    }
}

/// <summary>Which saved tensors go where, and what does not match, after key surgery.</summary>
internal sealed record ModelLoadPlan(
    IReadOnlyList<KeyValuePair<string, HostTensor>> Loadable,
    IReadOnlyList<string> Missing,
    IReadOnlyList<string> Unexpected,
    IReadOnlyList<string> ShapeMismatches)
{
    public bool IsExact => Missing.Count == 0 && Unexpected.Count == 0 && ShapeMismatches.Count == 0;

    public static ModelLoadPlan Build(
        IEnumerable<KeyValuePair<string, HostTensor>> saved, IReadOnlyDictionary<string, Tensor> live, ModelLoadOptions options)
    {
        var loadable = new List<KeyValuePair<string, HostTensor>>();
        var unexpected = new List<string>();
        var mismatched = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (savedName, tensor) in saved)
        {
            var name = options.Revise(savedName);
            if (options.IsIgnored(name))
            {
                continue;
            }
            if (!live.TryGetValue(name, out var target))
            {
                unexpected.Add(name);
                continue;
            }
            seen.Add(name);
            if (!target.shape.SequenceEqual(tensor.Shape))
            {
                mismatched.Add($"{name} saved {tensor.ShapeText} model [{string.Join(", ", target.shape)}]");
                continue;
            }
            loadable.Add(KeyValuePair.Create(name, tensor));
        }
        var missing = live.Keys.Where(k => !seen.Contains(k) && !options.IsIgnored(k)).Order(StringComparer.Ordinal).ToList();
        return new ModelLoadPlan(loadable, missing, unexpected, mismatched);
    }

    public string Describe()
    {
        var parts = new List<string>();
        if (Missing.Count > 0)
        {
            parts.Add($"missing keys {List(Missing)}");
        }
        if (Unexpected.Count > 0)
        {
            parts.Add($"unexpected keys {List(Unexpected)}");
        }
        if (ShapeMismatches.Count > 0)
        {
            parts.Add($"shape mismatches {List(ShapeMismatches)}");
        }
        return parts.Count == 0 ? "all keys match" : string.Join("; ", parts);
    }

    private static string List(IReadOnlyList<string> items) =>
        items.Count <= 5 ? string.Join(", ", items) : string.Join(", ", items.Take(5)) + $" and {items.Count - 5} more";
}
