using System.Text.Json;
using Orchestrator.Tests.Support;
using Orchestrator.Trainer.Checkpointing;
using Orchestrator.Trainer.Jobs;
using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Tests.Interop;

/// <summary>
/// <c>checkpoints export</c> against a real PyTorch: a built-in job trained by the program, exported by the
/// program as safetensors and as .pt, then loaded by PyTorch into the same architecture. Every tensor must
/// equal the checkpoint's bit for bit, PyTorch's output on the test's input must match TorchSharp's (the
/// checkpoint loaded into the job's model here, in the test process), and Adam's state must load into
/// torch.optim.Adam with every moment bit for bit.
/// </summary>
public sealed class CheckpointExportToPyTorchTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData("mlp", 24)]
    [InlineData("cnn", 8)]
    [InlineData("charlm", 32)]
    public void Exported_checkpoints_load_in_PyTorch_bit_for_bit_with_the_same_outputs(string job, int width)
    {
        var workDir = _temp.Sub("work");
        var train = CliProcess.Run(CliProcess.Train(job, workDir, 30, 10, "--width", width.ToString()));
        Assert.True(train.ExitCode == 0, train.ToString());
        var checkpoint = Path.Combine(workDir, "checkpoints", "iter_30");
        var exports = new List<string>();
        foreach (var (format, file, more) in new[]
        {
            ("safetensors", "model.safetensors", new[] { "--with-optimizer" }),
            ("safetensors", "prefixed.safetensors", new[] { "--prefix", "module." }),
            ("pytorch", "model.pt", []),
            ("pytorch", "full.pt", new[] { "--with-optimizer", "--prefix", "module." }),
        })
        {
            var output = _temp.Sub(file);
            var export = CliProcess.Run(["checkpoints", "export", checkpoint, "--format", format, "--out", output, .. more]);
            Assert.True(export.ExitCode == 0, export.ToString());
            Assert.Contains($"weights-sha256: {train.WeightsSha256}", export.Output, StringComparison.Ordinal);
            exports.Add($"{format}|{output}|{(more.Contains("--prefix") ? "module." : "")}");
        }
        Assert.True(File.Exists(_temp.Sub("model.optimizer.safetensors")));
        Assert.Empty(Directory.EnumerateFiles(_temp.Path, "*.tmp-*"));

        var references = _temp.Sub("reference");
        WriteReference(checkpoint, job, width, references);
        var pythonOutput = PyTorchPython.Run(ExportCheckScript.Source, [references, job, width.ToString(), .. exports]);

        Assert.Equal(4, pythonOutput.Split('\n').Count(l => l.StartsWith("OK ", StringComparison.Ordinal)));
        Assert.Equal(2, pythonOutput.Split('\n').Count(l => l.Contains("Adam state of", StringComparison.Ordinal)));
    }

    [Fact]
    public void A_work_dir_exports_its_newest_valid_checkpoint_and_says_which()
    {
        var workDir = _temp.Sub("work");
        Assert.Equal(0, CliProcess.Run(CliProcess.Train("mlp", workDir, 20, 10)).ExitCode);
        // The newest checkpoint is damaged: the export takes the one before and names both.
        var weights = Path.Combine(workDir, "checkpoints", "iter_20", "model.weights");
        var bytes = File.ReadAllBytes(weights);
        bytes[^1] ^= 0x40;
        File.WriteAllBytes(weights, bytes);

        var export = CliProcess.Run(["checkpoints", "export", workDir, "--format", "safetensors", "--out", _temp.Sub("w.safetensors")]);

        Assert.True(export.ExitCode == 0, export.ToString());
        Assert.Contains("exporting iter_10, the newest valid checkpoint in", export.Output, StringComparison.Ordinal);
        Assert.Contains("skipped: iter_20: model.weights is corrupt", export.Error, StringComparison.Ordinal);
    }

    /// <summary>The checkpoint's tensors as raw files, and TorchSharp's output for a fixed input, for the script to compare with.</summary>
    private static void WriteReference(string checkpointPath, string job, int width, string folder)
    {
        Directory.CreateDirectory(folder);
        var checkpoint = new CheckpointStore(Path.GetDirectoryName(checkpointPath)!, CheckpointNaming.AnyNumbered).Load(checkpointPath);
        var model = checkpoint.Components[ModelCheckpointable.ComponentName];
        var tensors = new Dictionary<string, object>();
        foreach (var (name, tensor) in model.Tensors)
        {
            var file = $"t{tensors.Count}.bin";
            File.WriteAllBytes(Path.Combine(folder, file), tensor.Bytes.ToArray());
            tensors[name] = new { dtype = TorchName(tensor.DType), shape = tensor.Shape, file };
        }
        // The samples the process tests train with: charlm's vocabulary is the characters of its text.
        var options = new BuiltInJobOptions { Width = width, Samples = 512 };
        using var built = job switch { "mlp" => MlpJob.Create(options), "cnn" => CnnJob.Create(options), _ => CharLmJob.Create(options) };
        new ModelCheckpointable(built.Model, ModelLoadOptions.Default).Restore(model);
        new OptimizerCheckpointable(built.Optimizer, CPU).Restore(checkpoint.Components["optimizer"]);
        // The optimizer's state as TorchSharp itself reads it back, independent of the exporter's reading.
        var states = new List<object>();
        foreach (var state in ((TorchSharp.Modules.OptimizerHelper)built.Optimizer).state_dict().State.Cast<TorchSharp.Modules.Adam.State>())
        {
            var index = states.Count;
            File.WriteAllBytes(Path.Combine(folder, $"o{index}a.bin"), state.exp_avg.bytes.ToArray());
            File.WriteAllBytes(Path.Combine(folder, $"o{index}b.bin"), state.exp_avg_sq.bytes.ToArray());
            states.Add(new { step = state.step, exp_avg = $"o{index}a.bin", exp_avg_sq = $"o{index}b.bin" });
        }
        using var generator = new Generator(7);
        long[] inputShape = job switch { "mlp" => [8, 16], "cnn" => [4, 1, 16, 16], _ => [4, 16] };
        using var input = job == "charlm"
            ? randint(model.Tensors.Single(t => t.Key == "embedding.weight").Value.Shape[0], inputShape, generator: generator, dtype: ScalarType.Int64)
            : randn(inputShape, generator: generator);
        built.Model.eval();
        using var noGrad = no_grad();
        using var output = ((nn.Module<Tensor, Tensor>)built.Model).call(input);
        File.WriteAllBytes(Path.Combine(folder, "input.bin"), input.bytes.ToArray());
        File.WriteAllBytes(Path.Combine(folder, "output.bin"), output.bytes.ToArray());
        var reference = new
        {
            step = checkpoint.Info.Iteration,
            weightsSha256 = checkpoint.Info.WeightsSha256,
            checkpoint = checkpoint.Name,
            lr = built.Optimizer.ParamGroups.First().LearningRate,
            tensors,
            optimizer = states,
            inputShape,
            outputShape = output.shape,
        };
        File.WriteAllText(Path.Combine(folder, "ref.json"), JsonSerializer.Serialize(reference));
    }

    private static string TorchName(ScalarType dtype) => dtype switch
    {
        ScalarType.Float32 => "torch.float32",
        ScalarType.Int64 => "torch.int64",
        _ => throw new ArgumentException($"the built-in jobs hold no {dtype}"),
    };
}
