using Orchestrator.Trainer.Tensors;
using Orchestrator.Trainer.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Tests.Tensors;

public sealed class TensorFileTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Weights_written_by_TensorFile_load_with_TorchSharp_Module_load()
    {
        random.manual_seed(11);
        using var source = nn.Sequential(("fc", nn.Linear(4, 3)), ("norm", nn.BatchNorm1d(3)));
        using var target = nn.Sequential(("fc", nn.Linear(4, 3)), ("norm", nn.BatchNorm1d(3)));
        var path = _temp.Sub("model.weights");
        using (var file = File.Create(path))
        {
            TensorFile.Write(file, source.state_dict().Select(e => KeyValuePair.Create(e.Key, HostTensor.Copy(e.Value))).ToList());
        }

        target.load(path);

        Assert.Equal(WeightsDigest.Of(source), WeightsDigest.Of(target));
    }

    [Fact]
    public void A_file_saved_by_TorchSharp_reads_back_with_names_shapes_and_bytes()
    {
        random.manual_seed(12);
        using var model = nn.Sequential(("fc", nn.Linear(5, 2)));
        var path = _temp.Sub("saved.dat");
        model.save(path);

        using var stream = File.OpenRead(path);
        var tensors = TensorFile.Read(stream);

        Assert.Equal(["fc.weight", "fc.bias"], tensors.Select(t => t.Key));
        Assert.Equal([2L, 5L], tensors[0].Value.Shape);
        Assert.Equal(WeightsDigest.Of(model), WeightsDigest.Of(tensors));
    }

    [Fact]
    public void A_truncated_tensor_file_is_reported_not_misread()
    {
        using var t = arange(10, dtype: ScalarType.Float32);
        var bytes = new MemoryStream();
        TensorFile.Write(bytes, [KeyValuePair.Create("x", HostTensor.Copy(t))]);
        var cut = bytes.ToArray()[..^8];

        var error = Assert.ThrowsAny<Exception>(() => TensorFile.Read(new MemoryStream(cut)));

        Assert.Contains("cut short", error.Message);
    }

    [Fact]
    public void Host_copy_round_trips_every_common_dtype()
    {
        foreach (var dtype in new[] { ScalarType.Float32, ScalarType.Float64, ScalarType.Int64, ScalarType.Int32, ScalarType.Byte, ScalarType.Bool, ScalarType.BFloat16 })
        {
            using var original = arange(6).reshape(2, 3).to_type(dtype);
            using var back = HostTensor.Copy(original).ToTensor();
            Assert.True(original.eq(back).all().item<bool>(), dtype.ToString());
        }
    }
}
