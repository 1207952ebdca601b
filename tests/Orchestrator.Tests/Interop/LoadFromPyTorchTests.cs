using Orchestrator.Tests.Support;

namespace Orchestrator.Tests.Interop;

/// <summary>
/// <c>orchestrator train --load-from</c> with state_dicts saved by a real PyTorch, run as a user runs it:
/// single process and with two ranks, both file formats, and files that must be refused.
/// </summary>
public sealed class LoadFromPyTorchTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    // A learning rate of 1e-300 is 0 in float32, so the one step the run must take leaves every weight as
    // it was loaded, and the weights-sha256 it prints is that of the loaded weights.
    [Theory]
    [InlineData("model.pt", 1)]
    [InlineData("model.safetensors", 1)]
    [InlineData("model.pt", 2)]
    [InlineData("model.safetensors", 2)]
    public void Train_loads_a_PyTorch_state_dict_bit_for_bit(string file, int ranks)
    {
        PyTorchStateDicts.ForJob(_temp.Path, "mlp", 32);

        var result = CliProcess.Run(CliProcess.Train("mlp", _temp.Sub("run"), 1, more:
            ["--width", "32", "--lr", "1e-300", "--ranks", ranks.ToString(), "--load-from", _temp.Sub(file)]));

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains($"read 6 tensors (6 float32) from {file}", result.Error);
        Assert.Contains($"loaded weights from {file} (optimizer, schedule and counters start fresh)", result.Error);
        Assert.Equal(PyTorchStateDicts.WeightsSha256(_temp.Path), result.WeightsSha256);
    }

    [Fact]
    public void A_config_files_loadFrom_and_removePrefix_take_a_state_dict_file()
    {
        PyTorchStateDicts.ForJob(_temp.Path, "mlp", 32, prefix: "encoder.");
        var config = _temp.Sub("train.json");
        File.WriteAllText(config, System.Text.Json.JsonSerializer.Serialize(new { loadFrom = _temp.Sub("model.pt"), removePrefix = "encoder.", width = 32, learningRate = 1e-300 }));

        var result = CliProcess.Run(CliProcess.Train("mlp", _temp.Sub("run"), 1, more: ["--config", config]));

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(PyTorchStateDicts.WeightsSha256(_temp.Path), result.WeightsSha256);
    }

    [Fact]
    public void The_cnn_with_its_int64_batch_norm_counters_trains_alike_from_either_format()
    {
        PyTorchStateDicts.ForJob(_temp.Path, "cnn", 4);

        var fromPt = CliProcess.Run(CliProcess.Train("cnn", _temp.Sub("pt"), 2, more: ["--width", "4", "--load-from", _temp.Sub("model.pt")]));
        var fromSafetensors = CliProcess.Run(CliProcess.Train("cnn", _temp.Sub("st"), 2, more: ["--width", "4", "--load-from", _temp.Sub("model.safetensors")]));
        var fresh = CliProcess.Run(CliProcess.Train("cnn", _temp.Sub("fresh"), 2, more: ["--width", "4"]));

        Assert.True(fromPt.ExitCode == 0, fromPt.ToString());
        Assert.Contains("read 16 tensors (14 float32, 2 int64) from model.pt", fromPt.Error);
        Assert.Equal(fromPt.WeightsSha256, fromSafetensors.WeightsSha256);
        Assert.NotEqual(fresh.WeightsSha256, fromPt.WeightsSha256);
    }

    [Fact]
    public void Key_surgery_flags_apply_to_a_file_and_a_mismatch_is_refused_in_one_line()
    {
        PyTorchStateDicts.ForJob(_temp.Path, "mlp", 32, prefix: "encoder.");
        var file = _temp.Sub("model.safetensors");

        var strict = CliProcess.Run(CliProcess.Train("mlp", _temp.Sub("strict"), 1, more: ["--width", "32", "--load-from", file]));
        var renamed = CliProcess.Run(CliProcess.Train("mlp", _temp.Sub("renamed"), 1, more: ["--width", "32", "--lr", "1e-300", "--load-from", file, "--remove-prefix", "encoder."]));

        Assert.Equal(2, strict.ExitCode);
        Assert.Equal($"error: {file}: checkpoint does not fit the model: missing keys hidden1.bias, hidden1.weight, hidden2.bias, hidden2.weight, output.bias and 1 more; unexpected keys encoder.hidden1.weight, encoder.hidden1.bias, encoder.hidden2.weight, encoder.hidden2.bias, encoder.output.weight and 1 more (use a checkpoint of this model, or load non-strict with key surgery)", strict.Error.Trim());
        Assert.True(renamed.ExitCode == 0, renamed.ToString());
        Assert.Equal(PyTorchStateDicts.WeightsSha256(_temp.Path), renamed.WeightsSha256);
    }

    [Theory]
    [InlineData("evil.pt", "holds a pickled object of type posix.system, not a state_dict of tensors; only tensors in plain containers are loaded (no code runs on load)")]
    [InlineData("missing_storage.pt", "the storage of tensor 'bias' (whole/data/1) is missing from the zip")]
    [InlineData("overshape.pt", "tensor 'weight' of shape [100] (stride [1], offset 0) reaches past its storage of 4 elements")]
    [InlineData("legacy.pt", "is in PyTorch's legacy (before 1.6) torch.save format")]
    public void A_hostile_or_unreadable_file_is_refused_with_exit_2_in_one_line(string file, string problem)
    {
        PyTorchStateDicts.Hostile(_temp.Path);

        var result = CliProcess.Run(CliProcess.Train("mlp", _temp.Sub("run"), 1, more: ["--load-from", _temp.Sub(file)]));

        Assert.Equal(2, result.ExitCode);
        var line = Assert.Single(result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"error: {_temp.Sub(file)}: ", line, StringComparison.Ordinal);
        Assert.Contains(problem, line, StringComparison.Ordinal);
        Assert.False(File.Exists(_temp.Sub("code-ran")), "the pickled os.system call ran");
    }

    [Fact]
    public void A_safetensors_header_that_lies_is_refused_with_exit_2()
    {
        PyTorchStateDicts.ForJob(_temp.Path, "mlp", 32);
        var bytes = File.ReadAllBytes(_temp.Sub("model.safetensors"));
        var lying = _temp.Sub("lying.safetensors");
        File.WriteAllBytes(lying, bytes[..(bytes.Length / 2)]); // the header still claims all the data

        var result = CliProcess.Run(CliProcess.Train("mlp", _temp.Sub("run"), 1, more: ["--width", "32", "--load-from", lying]));

        Assert.Equal(2, result.ExitCode);
        var line = Assert.Single(result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Matches($"^error: {System.Text.RegularExpressions.Regex.Escape(lying)}: safetensors entry '[a-z0-9.]+' has data_offsets ", line);
    }
}
