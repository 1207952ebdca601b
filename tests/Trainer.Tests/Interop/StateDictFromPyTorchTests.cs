using Orchestrator.Trainer.Checkpointing;
using Orchestrator.Trainer.Interop;
using Orchestrator.Trainer.Jobs;
using Orchestrator.Trainer.Tensors;
using Orchestrator.Trainer.Training;

namespace Orchestrator.Trainer.Tests.Interop;

/// <summary>
/// State_dicts saved by a real PyTorch (torch.save and safetensors) for the built-in jobs' architectures,
/// loaded into the jobs' models the way <c>--load-from</c> loads them, and compared tensor by tensor, bit for bit.
/// </summary>
public sealed class StateDictFromPyTorchTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData(MlpJob.Name, 24, "model.pt")]
    [InlineData(MlpJob.Name, 24, "model.safetensors")]
    [InlineData(CnnJob.Name, 4, "model.pt")]
    [InlineData(CnnJob.Name, 4, "model.safetensors")]
    public void A_PyTorch_state_dict_loads_into_the_job_bit_for_bit(string job, int width, string file)
    {
        var expected = PyTorchStateDicts.ForJob(_temp.Path, job, width);
        using var training = JobCatalog.Factory(job, new BuiltInJobOptions { Seed = 3, Samples = 64, Width = width })();
        var state = new TrainingState(training, 3, ModelLoadOptions.Default);

        var (notes, name) = WeightsSource.Load(_temp.Sub(file), Store(), state.LoadWeights);

        Assert.Equal(file, name);
        Assert.Contains(notes, n => n.StartsWith($"read {expected.Count} tensors", StringComparison.Ordinal));
        var live = training.Model.state_dict();
        Assert.Equal(expected.Keys.Order(), live.Keys.Order());
        foreach (var (key, tensor) in live)
        {
            PyTorchTensors.AssertSame(expected[key], key, HostTensor.Copy(tensor));
        }
        if (job == CnnJob.Name)
        {
            Assert.Equal(11L, live["norm1.num_batches_tracked"].item<long>()); // an int64 buffer, kept as one
        }
    }

    // A learning rate of 1e-300 is 0 in float32: the one step the run takes leaves the loaded weights as they are.
    [Fact]
    public void A_single_process_run_loads_a_file_given_as_load_from()
    {
        PyTorchStateDicts.ForJob(_temp.Path, MlpJob.Name, 16);
        var options = new RunOptions
        {
            WorkDir = _temp.Sub("run"),
            Steps = 1,
            Threads = 1,
            Schedule = new CheckpointSchedule(EveryIterations: 10),
            LoadFrom = _temp.Sub("model.pt"),
        };

        var result = TrainingRun.Execute(JobCatalog.Factory(MlpJob.Name, new BuiltInJobOptions { Samples = 64, Width = 16, LearningRate = 1e-300 }), options);

        Assert.Equal(PyTorchStateDicts.WeightsSha256(_temp.Path), result.WeightsSha256);
    }

    [Theory]
    [InlineData("dtypes.pt")]
    [InlineData("dtypes.safetensors")]
    public void Every_dtype_keeps_its_type_shape_and_bits(string file)
    {
        var expected = PyTorchStateDicts.WithEveryDType(_temp.Path);

        using var read = StateDictFile.Open(_temp.Sub(file));

        var names = read.Tensors.Select(t => t.Key).ToList();
        Assert.Contains("f16", names);
        Assert.Contains("bf16_specials", names);
        Assert.Equal(file.EndsWith(".pt", StringComparison.Ordinal) ? expected.Count : expected.Count - 3, names.Count);
        foreach (var (name, tensor) in read.Tensors)
        {
            PyTorchTensors.AssertSame(expected[name], name, tensor);
        }
    }

    [Fact]
    public void Views_that_are_not_contiguous_are_read_in_row_major_order()
    {
        var expected = PyTorchStateDicts.WithEveryDType(_temp.Path);

        using var read = StateDictFile.Open(_temp.Sub("dtypes.pt"));

        foreach (var view in new[] { "transposed", "sliced", "stepped" })
        {
            PyTorchTensors.AssertSame(expected[view], view, read.Tensors.Single(t => t.Key == view).Value);
        }
    }

    [Fact]
    public void Key_surgery_renames_a_files_keys_as_it_does_a_checkpoints()
    {
        PyTorchStateDicts.ForJob(_temp.Path, MlpJob.Name, 8, prefix: "backbone.");
        using var training = JobCatalog.Factory(MlpJob.Name, new BuiltInJobOptions { Seed = 3, Samples = 64, Width = 8 })();
        var path = _temp.Sub("model.safetensors");

        var strict = Assert.Throws<CheckpointMismatchException>(() => WeightsSource.Load(path, Store(), new TrainingState(training, 3, ModelLoadOptions.Default).LoadWeights));
        var withSurgery = new TrainingState(training, 3, ModelLoadOptions.Default with { RemovePrefix = "backbone." });
        var (notes, _) = WeightsSource.Load(path, Store(), withSurgery.LoadWeights);

        Assert.StartsWith(path + ": checkpoint does not fit the model: missing keys hidden1.bias", strict.Message, StringComparison.Ordinal);
        Assert.Contains("unexpected keys backbone.hidden1.weight", strict.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', strict.Message);
        Assert.DoesNotContain(notes, n => n.Contains("non-strict", StringComparison.Ordinal));
    }

    [Fact]
    public void A_non_strict_load_of_a_file_reports_what_did_not_fit_in_one_line()
    {
        PyTorchStateDicts.ForJob(_temp.Path, MlpJob.Name, 8);
        using var wider = JobCatalog.Factory(MlpJob.Name, new BuiltInJobOptions { Seed = 3, Samples = 64, Width = 16 })();
        var state = new TrainingState(wider, 3, ModelLoadOptions.Default with { Strict = false });

        var (notes, _) = WeightsSource.Load(_temp.Sub("model.pt"), Store(), state.LoadWeights);

        var line = Assert.Single(notes, n => n.StartsWith("non-strict load:", StringComparison.Ordinal));
        Assert.Contains("shape mismatches hidden1.weight saved [8, 16] model [16, 16]", line, StringComparison.Ordinal);
    }

    [Fact]
    public void A_state_dict_nested_under_model_is_loaded_and_the_rest_named()
    {
        PyTorchStateDicts.Hostile(_temp.Path);

        using var read = StateDictFile.Open(_temp.Sub("nested.pt"));

        Assert.Equal(["weight"], read.Tensors.Select(t => t.Key));
        Assert.Contains("nested.pt: loaded the state_dict under 'model'; left unread: epoch, optimizer", read.Notes);
    }

    private CheckpointStore Store() => new(_temp.Sub("checkpoints"), new CheckpointNaming(CheckpointNaming.IterationTemplate));
}
