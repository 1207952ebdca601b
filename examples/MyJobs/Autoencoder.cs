using Orchestrator.Trainer.Data;
using Orchestrator.Trainer.Jobs;
using Orchestrator.Trainer.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace MyJobs;

/// <summary>A job of your own: squeezes 32 numbers through a narrow layer and back.</summary>
public sealed class Autoencoder : IJobDefinition
{
    // orchestrator train --job-assembly MyJobs.dll --job autoencoder
    public string Name => "autoencoder";

    // Called for every rank after torch is seeded, so every rank starts from the same weights.
    public TrainingJob Create(JobContext context)
    {
        // --job-arg width=16; --batch-size and --lr arrive as batchSize and learningRate.
        var width = context.Args.Int("width", 8);
        var samples = context.Args.Int("samples", 512);
        var rate = context.Args.Double("learningRate", 1e-2);
        // Your data. Here it is made from the seed, so every rank and every rerun has the same samples.
        using var generator = new Generator(unchecked((ulong)context.Seed) ^ 0xAE);
        var data = randn([samples, 32], generator: generator);
        var model = nn.Sequential(("encode", nn.Linear(32, width)), ("act", nn.Tanh()), ("decode", nn.Linear(width, 32))).to(context.Device);
        return new TrainingJob
        {
            Name = Name,
            Model = model,
            Optimizer = new Adam(model.parameters(), rate), // TorchSharp's Adam, safe from a collection mid-step
            LearningRate = new StepDecayLearningRate(rate, StepSize: 100, Gamma: 0.5),
            // The global batch is the same at any world size: rank Rank of WorldSize reads its share of it.
            Data = new ShuffledTensorDataset(data, data.clone(), context.Args.Int("batchSize", 32), context.Rank, context.WorldSize),
            Loss = batch => nn.functional.mse_loss(model.call(batch.Input), batch.Target),
            Device = context.Device,
        };
    }
}
