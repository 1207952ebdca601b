namespace Orchestrator.Trainer.Interop;

/// <summary>
/// Finds the state_dict in what a <c>torch.save</c> pickle holds: the dict itself, or, as training scripts
/// often save it, a dict with the state_dict under "state_dict" or "model" beside other things (epoch,
/// optimizer), which are then left unread and named in a note.
/// </summary>
internal static class StateDictRoot
{
    private static readonly string[] NestedKeys = ["state_dict", "model"];

    public sealed record Found(IReadOnlyList<KeyValuePair<string, TensorRef>> Tensors, IReadOnlyList<string> Notes);

    public static Found Find(string path, object? root)
    {
        if (root is not PickleDict dict)
        {
            throw StateDictRefusal.Of(path, $"holds a pickled {Describe(root)}, not a state_dict (a dict of tensors)");
        }
        if (!dict.Items.Any(item => item.Value is TensorRef))
        {
            foreach (var key in NestedKeys)
            {
                if (dict.Items.FirstOrDefault(item => key.Equals(item.Key)).Value is PickleDict nested && nested.Items.Any(item => item.Value is TensorRef))
                {
                    var others = dict.Items.Select(item => item.Key as string ?? "?").Where(k => k != key).ToList();
                    var found = Tensors(path, nested, $"['{key}']");
                    var note = $"{Path.GetFileName(path)}: loaded the state_dict under '{key}'" + (others.Count > 0 ? $"; left unread: {Join(others)}" : "");
                    return found with { Notes = [note, .. found.Notes] };
                }
            }
            throw StateDictRefusal.Of(path, $"holds a dict without tensors (keys: {Join(dict.Items.Select(item => item.Key as string ?? "?").ToList())}); save model.state_dict(), or a dict with it under 'state_dict' or 'model'");
        }
        return Tensors(path, dict, "");
    }

    private static Found Tensors(string path, PickleDict dict, string where)
    {
        var tensors = new List<KeyValuePair<string, TensorRef>>();
        var skipped = new List<string>();
        foreach (var (key, value) in dict.Items)
        {
            if (key is not string name)
            {
                throw StateDictRefusal.Of(path, $"its state_dict{where} has a key that is not a string ({Describe(key)})");
            }
            if (value is TensorRef tensor)
            {
                tensors.Add(KeyValuePair.Create(name, tensor));
            }
            else
            {
                skipped.Add(name);
            }
        }
        var notes = skipped.Count > 0 ? [$"{Path.GetFileName(path)}: left out {skipped.Count} entries that are not tensors: {Join(skipped)}"] : new List<string>();
        return new Found(tensors, notes);
    }

    private static string Join(IReadOnlyList<string> names) =>
        names.Count <= 5 ? string.Join(", ", names) : string.Join(", ", names.Take(5)) + $" and {names.Count - 5} more";

    private static string Describe(object? value) => value switch
    {
        null => "None",
        string => "string",
        long => "integer",
        double => "float",
        bool => "bool",
        List<object?> => "list",
        PickleTuple => "tuple",
        TensorRef => "tensor",
        _ => value.GetType().Name,
    };
}
