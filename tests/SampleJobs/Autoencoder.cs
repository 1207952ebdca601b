using Orchestrator.Trainer.Data;
using Orchestrator.Trainer.Jobs;
using Orchestrator.Trainer.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace SampleJobs;

/// <summary>
/// <c>autoencoder</c>: squeezes 32 numbers through a narrow layer and back. Its data comes from the seed, so
/// every rank and every rerun reads the same samples; reads <c>width</c>, <c>samples</c>, <c>batchSize</c>
/// and <c>learningRate</c>.
/// </summary>
public sealed class Autoencoder : IJobDefinition
{
    public string Name => "autoencoder";

    public TrainingJob Create(JobContext context)
    {
        var width = context.Args.Int("width", 8);
        var samples = context.Args.Int("samples", 512);
        var rate = context.Args.Double("learningRate", 1e-2);
        using var generator = new Generator(unchecked((ulong)context.Seed) ^ 0xAE);
        var data = randn([samples, 32], generator: generator);
        var model = nn.Sequential(("encode", nn.Linear(32, width)), ("act", nn.Tanh()), ("decode", nn.Linear(width, 32))).to(context.Device);
        return new TrainingJob
        {
            Name = Name,
            Model = model,
            Optimizer = new Adam(model.parameters(), rate),
            LearningRate = new StepDecayLearningRate(rate, StepSize: 100, Gamma: 0.5),
            Data = new ShuffledTensorDataset(data, data.clone(), context.Args.Int("batchSize", 32), context.Rank, context.WorldSize),
            Loss = batch => nn.functional.mse_loss(model.call(batch.Input), batch.Target),
            Device = context.Device,
        };
    }
}
