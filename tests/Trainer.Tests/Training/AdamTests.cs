using Orchestrator.Trainer.Data;
using Orchestrator.Trainer.Jobs;
using Orchestrator.Trainer.Runtime;
using Orchestrator.Trainer.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Tests.Training;

public sealed class AdamTests
{
    [Theory]
    [InlineData(0.0, false, false)]
    [InlineData(0.01, true, false)]
    [InlineData(0.0, false, true)]
    public void Steps_are_bit_identical_to_TorchSharps_Adam(double weightDecay, bool amsgrad, bool maximize)
    {
        var ours = Train(parameters => new Orchestrator.Trainer.Training.Adam(parameters, 1e-2, weightDecay, amsgrad, maximize));
        var torchSharps = Train(parameters => optim.Adam(parameters, 1e-2, weight_decay: weightDecay, amsgrad: amsgrad, maximize: maximize));

        Assert.Equal(torchSharps.Weights, ours.Weights);
        Assert.Equal(torchSharps.OptimizerState, ours.OptimizerState);
    }

    private static (string Weights, byte[] OptimizerState) Train(Func<IEnumerable<TorchSharp.Modules.Parameter>, optim.Optimizer> optimizer, int steps = 25)
    {
        var options = new BuiltInJobOptions { Seed = 7, Width = 32 };
        DeterministicRuntime.Configure(options.Seed, 1);
        using var job = JobCatalog.Factory(MlpJob.Name, options)();
        using var chosen = optimizer(job.Model.parameters());
        var cursor = DataCursor.Start(options.Seed);
        for (var i = 0; i < steps; i++)
        {
            using var scope = NewDisposeScope();
            using var batch = job.Data.Read(cursor);
            chosen.zero_grad();
            job.Loss(batch).backward();
            chosen.step();
            cursor = job.Data.Advance(cursor);
        }
        using var state = new MemoryStream();
        using (var writer = new BinaryWriter(state))
        {
            ((TorchSharp.Modules.OptimizerHelper)chosen).save_state_dict(writer);
        }
        return (WeightsDigest.Of(job.Model), state.ToArray());
    }
}
