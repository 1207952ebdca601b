using Orchestrator.Trainer.Data;
using Orchestrator.Trainer.Jobs;
using Orchestrator.Trainer.Runtime;
using Orchestrator.Trainer.Tensors;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using Ours = Orchestrator.Trainer.Training;

namespace Orchestrator.Trainer.Tests.Training;

/// <summary>
/// The GC-safe optimizers against TorchSharp's own: same weights and same state-dict bytes after many steps,
/// with two parameter groups of different options, and a save and restore in the middle changing nothing.
/// </summary>
public sealed class OptimizerParityTests
{
    public static TheoryData<string> Cases => new(Factories.Keys);

    private static readonly Dictionary<string, (Factory Ours, Factory TorchSharps)> Factories = new()
    {
        ["adamw"] = (p => new Ours.AdamW(p, 1e-2, weightDecay: 0.1), p => optim.AdamW(p, 1e-2, weight_decay: 0.1)),
        ["adamw-amsgrad-maximize"] = (p => new Ours.AdamW(p, 1e-2, 0.8, 0.95, 1e-6, 0.01, amsgrad: true, maximize: true),
            p => optim.AdamW(p, 1e-2, 0.8, 0.95, 1e-6, 0.01, amsgrad: true, maximize: true)),
        ["sgd"] = (p => new Ours.SGD(p, 1e-2), p => optim.SGD(p, 1e-2)),
        ["sgd-momentum-dampening-decay"] = (p => new Ours.SGD(p, 1e-2, momentum: 0.9, dampening: 0.1, weightDecay: 1e-3),
            p => optim.SGD(p, 1e-2, momentum: 0.9, dampening: 0.1, weight_decay: 1e-3)),
        ["sgd-nesterov-maximize"] = (p => new Ours.SGD(p, 1e-2, momentum: 0.9, nesterov: true, maximize: true),
            p => optim.SGD(p, 1e-2, momentum: 0.9, nesterov: true, maximize: true)),
        ["rmsprop"] = (p => new Ours.RMSProp(p, 1e-3), p => optim.RMSProp(p, 1e-3)),
        ["rmsprop-centered-momentum-decay"] = (p => new Ours.RMSProp(p, 1e-3, 0.9, 1e-6, 1e-3, 0.5, centered: true),
            p => optim.RMSProp(p, 1e-3, 0.9, 1e-6, 1e-3, 0.5, centered: true)),
        ["rmsprop-maximize"] = (p => new Ours.RMSProp(p, 1e-3, maximize: true), p => optim.RMSProp(p, 1e-3, maximize: true)),
    };

    private delegate optim.Optimizer Factory(IEnumerable<Parameter> parameters);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Steps_are_bit_identical_to_TorchSharps_own(string name)
    {
        var (ours, torchSharps) = Factories[name];

        var expected = Train(torchSharps);
        var actual = Train(ours);

        Assert.Equal(expected.Weights, actual.Weights);
        Assert.Equal(expected.OptimizerState, actual.OptimizerState);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Saving_and_restoring_the_state_mid_run_changes_nothing(string name)
    {
        var straight = Train(Factories[name].Ours);

        var resumed = Train(Factories[name].Ours, restartAt: 11);

        Assert.Equal(straight.Weights, resumed.Weights);
        Assert.Equal(straight.OptimizerState, resumed.OptimizerState);
    }

    [Fact]
    public void Parameter_groups_keep_their_own_options_and_match_TorchSharp()
    {
        var ours = Train(p => new Ours.SGD(Split(p, (g, lr) => new SGD.ParamGroup(g, lr, momentum: 0.5)), 1e-2, momentum: 0.9));
        var torchSharps = Train(p => optim.SGD(Split(p, (g, lr) => new SGD.ParamGroup(g, lr, momentum: 0.5)), 1e-2, momentum: 0.9));
        var oneGroup = Train(p => new Ours.SGD(p, 1e-2, momentum: 0.9));

        Assert.Equal(torchSharps.Weights, ours.Weights);
        Assert.Equal(torchSharps.OptimizerState, ours.OptimizerState);
        Assert.NotEqual(oneGroup.Weights, ours.Weights);
    }

    [Fact]
    public void AdamW_and_RMSProp_take_parameter_groups_too()
    {
        var adamW = Train(p => new Ours.AdamW(Split(p, (g, lr) => new AdamW.ParamGroup(g, lr, weight_decay: 0)), 1e-2, weightDecay: 0.1));
        var torchAdamW = Train(p => optim.AdamW(Split(p, (g, lr) => new AdamW.ParamGroup(g, lr, weight_decay: 0)), 1e-2, weight_decay: 0.1));
        var rms = Train(p => new Ours.RMSProp(Split(p, (g, lr) => new RMSProp.ParamGroup(g, lr, momentum: 0.3)), 1e-3));
        var torchRms = Train(p => optim.RMSProp(Split(p, (g, lr) => new RMSProp.ParamGroup(g, lr, momentum: 0.3)), 1e-3));

        Assert.Equal(torchAdamW, adamW);
        Assert.Equal(torchRms.Weights, rms.Weights);
        Assert.Equal(torchRms.OptimizerState, rms.OptimizerState);
    }

    // The first half of the parameters (the first layers) in a group of their own with a tenth of the rate.
    private static IEnumerable<TGroup> Split<TGroup>(IEnumerable<Parameter> parameters, Func<IEnumerable<Parameter>, double, TGroup> group)
    {
        var all = parameters.ToList();
        return [group(all.Take(all.Count / 2).ToList(), 1e-3), group(all.Skip(all.Count / 2).ToList(), 1e-2)];
    }

    private sealed record Trained(string Weights, byte[] OptimizerState)
    {
        public bool Equals(Trained? other) => other is not null && Weights == other.Weights && OptimizerState.AsSpan().SequenceEqual(other.OptimizerState);

        public override int GetHashCode() => Weights.GetHashCode(StringComparison.Ordinal);
    }

    /// <summary>Trains the mlp job's model; with <paramref name="restartAt"/> the optimizer is rebuilt from its saved state there.</summary>
    private static Trained Train(Factory optimizer, int steps = 25, int? restartAt = null)
    {
        var options = new BuiltInJobOptions { Seed = 7, Width = 32 };
        DeterministicRuntime.Configure(options.Seed, 1);
        using var job = JobCatalog.Factory(MlpJob.Name, options)();
        var chosen = optimizer(job.Model.parameters());
        try
        {
            var cursor = DataCursor.Start(options.Seed);
            for (var i = 0; i < steps; i++)
            {
                if (i == restartAt)
                {
                    var saved = Save(chosen);
                    chosen.Dispose();
                    chosen = optimizer(job.Model.parameters());
                    using var reader = new BinaryReader(new MemoryStream(saved));
                    ((OptimizerHelper)chosen).load_state_dict(reader);
                }
                using var scope = NewDisposeScope();
                using var batch = job.Data.Read(cursor);
                chosen.zero_grad();
                job.Loss(batch).backward();
                chosen.step();
                cursor = job.Data.Advance(cursor);
            }
            return new Trained(WeightsDigest.Of(job.Model), Save(chosen));
        }
        finally
        {
            chosen.Dispose();
        }
    }

    private static byte[] Save(optim.Optimizer optimizer)
    {
        using var state = new MemoryStream();
        using (var writer = new BinaryWriter(state))
        {
            ((OptimizerHelper)optimizer).save_state_dict(writer);
        }
        return state.ToArray();
    }
}
