using System.Text.Json;
using Orchestrator.Trainer.Checkpointing;
using Orchestrator.Trainer.Interop;
using Orchestrator.Trainer.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Tests.Interop;

/// <summary>
/// What the built-in jobs do not hold, checked in a real PyTorch: every element type the exporter names
/// (half, bfloat16, int64 scalars, bool, empty tensors) keeps its dtype, shape and bytes in both formats, and
/// AdamW's (with amsgrad) and SGD's state load into torch.optim.AdamW and torch.optim.SGD bit for bit.
/// </summary>
public sealed class CheckpointExportFormatsTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Every_element_type_reaches_PyTorch_with_its_dtype_shape_and_bytes()
    {
        var random = new Random(5);
        List<KeyValuePair<string, HostTensor>> tensors =
        [
            Tensor("f32", ScalarType.Float32, [2, 3], random),
            Tensor("f16", ScalarType.Float16, [5], random),
            Tensor("bf16", ScalarType.BFloat16, [2, 2], random),
            Tensor("norm.num_batches_tracked", ScalarType.Int64, [], random),
            Tensor("f64", ScalarType.Float64, [3], random),
            Tensor("i32", ScalarType.Int32, [2, 1, 2], random),
            Tensor("i16", ScalarType.Int16, [2], random),
            Tensor("i8", ScalarType.Int8, [3], random),
            Tensor("u8", ScalarType.Byte, [4], random),
            new("flags", new HostTensor(ScalarType.Bool, [3], new byte[] { 1, 0, 1 })),
            Tensor("empty", ScalarType.Float32, [0, 4], random),
        ];
        var checkpoint = Checkpoint(tensors, optimizerBlob: null);

        var output = Export(checkpoint, withOptimizer: false);

        Assert.Equal(2, output.Split('\n').Count(l => l.StartsWith("OK ", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("AdamW")]
    [InlineData("SGD")]
    public void Optimizer_state_loads_into_torch_optim_bit_for_bit(string optimizerClass)
    {
        using var model = nn.Sequential(("layer", nn.Linear(3, 2)), ("out", nn.Linear(2, 1)));
        using var optimizer = optimizerClass == "AdamW"
            ? (optim.Optimizer)new Orchestrator.Trainer.Training.AdamW(model.parameters(), lr: 0.01, weightDecay: 0.1, amsgrad: true)
            : new Orchestrator.Trainer.Training.SGD(model.parameters(), lr: 0.05, momentum: 0.9, dampening: 0.1, weightDecay: 0.01);
        using var generator = new Generator(3);
        for (var step = 0; step < 3; step++)
        {
            optimizer.zero_grad();
            using var loss = model.call(randn([4, 3], generator: generator)).pow(2).sum();
            loss.backward();
            optimizer.step();
        }
        var weights = model.state_dict().Select(e => KeyValuePair.Create(e.Key, HostTensor.Copy(e.Value))).ToList();
        var checkpoint = Checkpoint(weights, new OptimizerCheckpointable(optimizer, CPU).Capture().Blob);
        var states = ((TorchSharp.Modules.OptimizerHelper)optimizer).state_dict().State.Select(StateOf).ToList();
        object group = optimizerClass == "AdamW"
            ? new Dictionary<string, object> { ["lr"] = 0.01, ["betas"] = new[] { 0.9, 0.999 }, ["eps"] = 1e-8, ["weight_decay"] = 0.1, ["amsgrad"] = true }
            : new Dictionary<string, object> { ["lr"] = 0.05, ["momentum"] = 0.9, ["dampening"] = 0.1, ["weight_decay"] = 0.01, ["nesterov"] = false };

        var output = Export(checkpoint, withOptimizer: true, new { @class = optimizerClass, shapes = weights.Select(w => w.Value.Shape), group, states });

        Assert.Equal(2, output.Split('\n').Count(l => l.StartsWith("OK ", StringComparison.Ordinal)));
    }

    [Fact]
    public void An_optimizer_other_than_Adam_AdamW_or_SGD_is_refused_by_name()
    {
        using var model = nn.Linear(3, 2);
        using var optimizer = new Orchestrator.Trainer.Training.RMSProp(model.parameters());
        var weights = model.state_dict().Select(e => KeyValuePair.Create(e.Key, HostTensor.Copy(e.Value))).ToList();
        var checkpoint = Checkpoint(weights, new OptimizerCheckpointable(optimizer, CPU).Capture().Blob);
        var request = new ExportRequest(ExportFormat.PyTorch, _temp.Sub("m.pt"), WithOptimizer: true);

        var refusal = Assert.Throws<ExportException>(() => CheckpointExport.Run(checkpoint, request));

        Assert.Contains("optimizer is RMSProp", refusal.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(request.OutPath));
        Assert.Empty(Directory.EnumerateFiles(_temp.Path));
    }

    [Fact]
    public void A_ZIP64_archive_as_exports_past_4_GiB_write_it_loads_in_PyTorch()
    {
        // A file past 4 GiB is too slow for a test; the same records are written here for a small one.
        var tensors = new List<KeyValuePair<string, HostTensor>> { Tensor("w", ScalarType.Float32, [3, 2], new Random(9)) };
        var path = _temp.Sub("zip64.pt");
        using (var file = ExportFile.Create(path, new ExportProgress(0, null)))
        {
            var zip = new PyTorchZipWriter(file, forceZip64: true);
            zip.Add("data.pkl", PickleWriter.Serialize(new PyOrderedDict([new("w", new PyTensor("0", tensors[0].Value))])));
            zip.Add("data/0", tensors[0].Value.Bytes.Span);
            zip.Add("version", "3\n"u8);
            zip.Finish();
            file.Commit();
        }
        var spec = _temp.Sub("spec.json");
        var expected = tensors.ToDictionary(t => t.Key, t => new { dtype = "torch.float32", shape = t.Value.Shape, hex = Convert.ToHexStringLower(t.Value.Bytes.Span) });
        File.WriteAllText(spec, JsonSerializer.Serialize(new { pt = new[] { path }, safetensors = Array.Empty<string>(), tensors = expected }));

        Assert.StartsWith($"OK {path}", PyTorchPython.Run(ExportFormatsScript.Source, spec), StringComparison.Ordinal);
    }

    private string Export(LoadedCheckpoint checkpoint, bool withOptimizer, object? optimizer = null)
    {
        var pt = _temp.Sub("model.pt");
        var safetensors = _temp.Sub("model.safetensors");
        CheckpointExport.Run(checkpoint, new ExportRequest(ExportFormat.PyTorch, pt, WithOptimizer: withOptimizer));
        CheckpointExport.Run(checkpoint, new ExportRequest(ExportFormat.Safetensors, safetensors, WithOptimizer: withOptimizer));
        var tensors = checkpoint.Components[ModelCheckpointable.ComponentName].Tensors.ToDictionary(
            t => t.Key, t => new { dtype = TorchName(t.Value.DType), shape = t.Value.Shape, hex = Convert.ToHexStringLower(t.Value.Bytes.Span) });
        var spec = _temp.Sub("spec.json");
        File.WriteAllText(spec, JsonSerializer.Serialize(new { pt = new[] { pt }, safetensors = new[] { safetensors }, tensors, optimizer }));
        return PyTorchPython.Run(ExportFormatsScript.Source, spec);
    }

    private static Dictionary<string, string> StateOf(TorchSharp.Modules.OptimizerState state) => state switch
    {
        TorchSharp.Modules.AdamW.State adam => new()
        {
            ["step"] = Convert.ToHexStringLower(BitConverter.GetBytes((float)adam.step)),
            ["exp_avg"] = Hex(adam.exp_avg),
            ["exp_avg_sq"] = Hex(adam.exp_avg_sq),
            ["max_exp_avg_sq"] = Hex(adam.max_exp_avg_sq),
        },
        TorchSharp.Modules.SGD.State sgd => new() { ["momentum_buffer"] = Hex(sgd.momentum_buffer) },
        _ => throw new ArgumentException(state.GetType().Name),
    };

    private static string Hex(Tensor tensor) => Convert.ToHexStringLower(tensor.bytes);

    private static LoadedCheckpoint Checkpoint(IReadOnlyList<KeyValuePair<string, HostTensor>> weights, byte[]? optimizerBlob)
    {
        var components = new Dictionary<string, ComponentState> { [ModelCheckpointable.ComponentName] = new(weights, null, null) };
        if (optimizerBlob is not null)
        {
            components["optimizer"] = new ComponentState([], optimizerBlob, null);
        }
        var info = new CheckpointInfo("test", 3, 0, 12, WeightsDigest.Of(weights), "final", DateTimeOffset.UnixEpoch, 1);
        return new LoadedCheckpoint("/nowhere/iter_3", "iter_3", info, components);
    }

    private static KeyValuePair<string, HostTensor> Tensor(string name, ScalarType dtype, long[] shape, Random random)
    {
        var bytes = new byte[shape.Aggregate(1L, (a, b) => a * b) * TensorFile.ElementSize(dtype)];
        random.NextBytes(bytes);
        return new(name, new HostTensor(dtype, shape, bytes));
    }

    private static string TorchName(ScalarType dtype) => dtype switch
    {
        ScalarType.Float32 => "torch.float32",
        ScalarType.Float16 => "torch.float16",
        ScalarType.BFloat16 => "torch.bfloat16",
        ScalarType.Int64 => "torch.int64",
        ScalarType.Float64 => "torch.float64",
        ScalarType.Int32 => "torch.int32",
        ScalarType.Int16 => "torch.int16",
        ScalarType.Int8 => "torch.int8",
        ScalarType.Byte => "torch.uint8",
        ScalarType.Bool => "torch.bool",
        _ => throw new ArgumentException(dtype.ToString()),
    };
}
