using Orchestrator.Trainer.Checkpointing;
using Orchestrator.Trainer.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Tests.Checkpointing;

public sealed class KeySurgeryTests : IDisposable
{
    private readonly nn.Module _source;
    private readonly nn.Module _target;

    public KeySurgeryTests()
    {
        random.manual_seed(5);
        _source = nn.Sequential(("fc", nn.Linear(3, 2)), ("norm", nn.BatchNorm1d(2)));
        _target = nn.Sequential(("fc", nn.Linear(3, 2)), ("norm", nn.BatchNorm1d(2)));
    }

    public void Dispose()
    {
        _source.Dispose();
        _target.Dispose();
    }

    [Fact]
    public void Default_revision_strips_the_data_parallel_module_prefix()
    {
        var saved = Saved(name => "module." + name);

        new ModelCheckpointable(_target, ModelLoadOptions.Default).Restore(saved);

        Assert.Equal(WeightsDigest.Of(_source), WeightsDigest.Of(_target));
    }

    [Fact]
    public void Prefixes_can_be_removed_and_added()
    {
        var saved = Saved(name => "backbone." + name.Replace("fc.", "layer.", StringComparison.Ordinal));
        var options = ModelLoadOptions.Default with
        {
            RemovePrefix = "backbone.",
            Revisions = [new KeyRevision("^layer\\.", "fc.")],
        };

        new ModelCheckpointable(_target, options).Restore(saved);

        Assert.Equal(WeightsDigest.Of(_source), WeightsDigest.Of(_target));
    }

    [Fact]
    public void Strict_load_names_missing_unexpected_and_mismatched_keys_in_one_message()
    {
        var state = Saved(name => name == "fc.bias" ? "head.bias" : name);
        var broken = state with
        {
            Tensors = state.Tensors.Select(t => t.Key == "fc.weight" ? KeyValuePair.Create(t.Key, HostTensor.Copy(zeros(5, 5))) : t).ToList(),
        };

        var error = Assert.Throws<CheckpointMismatchException>(() => new ModelCheckpointable(_target, ModelLoadOptions.Default).Restore(broken));

        Assert.Contains("missing keys fc.bias", error.Message);
        Assert.Contains("unexpected keys head.bias", error.Message);
        Assert.Contains("shape mismatches fc.weight saved [5, 5] model [2, 3]", error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void Non_strict_load_loads_what_matches_and_reports_the_rest()
    {
        var before = HostTensor.Copy(_target.state_dict()["fc.bias"]).Bytes.ToArray();
        var saved = Saved(name => name == "fc.bias" ? "head.bias" : name);

        var notes = new ModelCheckpointable(_target, ModelLoadOptions.Default with { Strict = false }).Restore(saved);

        var note = Assert.Single(notes);
        Assert.Equal("non-strict load: missing keys fc.bias; unexpected keys head.bias", note);
        Assert.Equal(HostTensor.Copy(_source.state_dict()["fc.weight"]).Bytes.ToArray(), HostTensor.Copy(_target.state_dict()["fc.weight"]).Bytes.ToArray());
        Assert.Equal(before, HostTensor.Copy(_target.state_dict()["fc.bias"]).Bytes.ToArray());
    }

    [Fact]
    public void Ignored_keys_are_neither_loaded_nor_reported()
    {
        var before = HostTensor.Copy(_target.state_dict()["norm.running_mean"]).Bytes.ToArray();
        using (no_grad())
        {
            _source.state_dict()["norm.running_mean"].fill_(3);
        }
        var saved = Saved(name => name);

        var notes = new ModelCheckpointable(_target, ModelLoadOptions.Default with { IgnoreKeys = ["^norm\\.running_"] }).Restore(saved);

        Assert.Empty(notes);
        Assert.Equal(before, HostTensor.Copy(_target.state_dict()["norm.running_mean"]).Bytes.ToArray());
        Assert.Equal(HostTensor.Copy(_source.state_dict()["fc.weight"]).Bytes.ToArray(), HostTensor.Copy(_target.state_dict()["fc.weight"]).Bytes.ToArray());
    }

    [Fact]
    public void BatchNorm_buffers_are_part_of_the_saved_model()
    {
        var names = new ModelCheckpointable(_source, ModelLoadOptions.Default).Capture().Tensors.Select(t => t.Key).ToList();

        Assert.Contains("norm.running_mean", names);
        Assert.Contains("norm.running_var", names);
        Assert.Contains("norm.num_batches_tracked", names);
    }

    private ComponentState Saved(Func<string, string> rename) => new(
        new ModelCheckpointable(_source, ModelLoadOptions.Default).Capture().Tensors.Select(t => KeyValuePair.Create(rename(t.Key), t.Value)).ToList(), null, null);
}
