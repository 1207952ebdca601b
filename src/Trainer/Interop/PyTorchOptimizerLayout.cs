using System.Text.Json.Nodes;
using Orchestrator.Trainer.Tensors;

namespace Orchestrator.Trainer.Interop;

/// <summary>
/// A TorchSharp optimizer state in the shape of PyTorch's <c>optimizer.state_dict()</c>:
/// <c>{"state": {0: {"step": tensor(float32), "exp_avg": ..., "exp_avg_sq": ...}, ...}, "param_groups": [{"lr": ...,
/// "betas": (b1, b2), ..., "params": [0, 1, ...]}]}</c>. State N belongs to the optimizer's N-th parameter, which
/// is the model's N-th parameter for an optimizer made from <c>model.parameters()</c> (the built-in jobs').
/// </summary>
internal sealed class PyTorchOptimizerLayout
{
    private readonly TorchSharpOptimizerState _state;

    public PyTorchOptimizerLayout(TorchSharpOptimizerState state)
    {
        if (state.Groups.Count != 1)
        {
            throw new ExportException($"the optimizer has {state.Groups.Count} parameter groups and its state does not record which parameters each holds; --with-optimizer exports one group only (export without --with-optimizer)");
        }
        _state = state;
    }

    public string Type => _state.Type;

    public int StateCount => _state.States.Count;

    /// <summary>The state tensors in file order, named <c>state.N.exp_avg</c> and so on (the safetensors names).</summary>
    public IReadOnlyList<KeyValuePair<string, HostTensor>> NamedTensors() =>
        _state.States.SelectMany((state, index) => state.Select(t => KeyValuePair.Create($"state.{index}.{t.Key}", t.Value))).ToList();

    /// <summary>The pickled form, each tensor given the storage key that <paramref name="storageKey"/> hands out in file order.</summary>
    public PyDict Pickled(Func<HostTensor, PyTensor> storageKey)
    {
        var states = _state.States
            .Select((state, index) => KeyValuePair.Create((object)index, (object?)new PyDict(state.Select(t => KeyValuePair.Create((object)t.Key, (object?)storageKey(t.Value))).ToList())))
            .ToList();
        var group = GroupEntries().Select(e => KeyValuePair.Create<object, object?>(e.Key, e.Value switch
        {
            double[] pair => new PyTuple([pair[0], pair[1]]),
            int[] indices => new PyList(indices.Select(i => (object?)i).ToList()),
            var other => other,
        })).ToList();
        return new PyDict([
            new("state", new PyDict(states)),
            new("param_groups", new PyList([new PyDict(group)])),
        ]);
    }

    /// <summary><c>param_groups</c> as JSON (tuples as arrays, None as null), for the safetensors metadata.</summary>
    public string ParamGroupsJson()
    {
        var group = new JsonObject();
        foreach (var (key, value) in GroupEntries())
        {
            group[key] = value switch
            {
                null => null,
                double[] pair => new JsonArray(pair[0], pair[1]),
                int[] indices => new JsonArray(indices.Select(i => (JsonNode?)i).ToArray()),
                bool flag => flag,
                double number => number,
                _ => throw new InvalidOperationException($"unexpected option {key}"),
            };
        }
        return new JsonArray(group).ToJsonString(new System.Text.Json.JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
    }

    /// <summary>The group's entries in the order PyTorch 2 lists them, with the defaults PyTorch fills in.</summary>
    private List<KeyValuePair<string, object?>> GroupEntries()
    {
        var g = _state.Groups[0];
        var entries = new List<KeyValuePair<string, object?>> { new("lr", g.LearningRate) };
        if (_state.Type == "SGD")
        {
            entries.AddRange([
                new("momentum", g.Momentum), new("dampening", g.Dampening), new("weight_decay", g.WeightDecay),
                new("nesterov", g.Nesterov), new("maximize", g.Maximize), new("foreach", null), new("differentiable", false), new("fused", null),
            ]);
        }
        else
        {
            entries.AddRange([
                new("betas", new[] { g.Beta1, g.Beta2 }), new("eps", g.Eps), new("weight_decay", g.WeightDecay), new("amsgrad", g.Amsgrad),
                new("maximize", g.Maximize), new("foreach", null), new("capturable", false), new("differentiable", false), new("fused", null),
                new("decoupled_weight_decay", _state.Type == "AdamW"),
            ]);
        }
        entries.Add(new("initial_lr", g.InitialLearningRate));
        entries.Add(new("params", Enumerable.Range(0, _state.States.Count).ToArray()));
        return entries;
    }
}
