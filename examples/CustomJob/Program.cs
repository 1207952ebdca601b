using Orchestrator.Trainer.Checkpointing;
using Orchestrator.Trainer.Data;
using Orchestrator.Trainer.Jobs;
using Orchestrator.Trainer.Training;
using TorchSharp;
using static TorchSharp.torch;

// Usage: CustomJob WORK_DIR STEPS — trains a small autoencoder; run it again to resume.
var workDir = args.Length > 0 ? args[0] : "runs/autoencoder";
var steps = args.Length > 1 ? long.Parse(args[1]) : 300;
var notes = new List<string>();

var result = TrainingRun.Execute(
    createJob: () =>
    {
        // Built inside the factory: the run seeds torch first, so initialisation is reproducible.
        var data = randn(512, 32, generator: new Generator(7));
        var model = nn.Sequential(("encode", nn.Linear(32, 8)), ("act", nn.Tanh()), ("decode", nn.Linear(8, 32)));
        return new TrainingJob
        {
            Name = "autoencoder",
            Model = model,
            Optimizer = new Adam(model.parameters(), 1e-2), // TorchSharp's Adam, safe from a collection mid-step
            LearningRate = new StepDecayLearningRate(1e-2, StepSize: 100, Gamma: 0.5),
            Data = new ShuffledTensorDataset(data, data.clone(), batchSize: 32),
            Loss = batch => nn.functional.mse_loss(model.call(batch.Input), batch.Target),
            // Anything else worth keeping goes in by name, next to model and optimizer.
            ExtraCheckpointables = new Dictionary<string, ICheckpointable>
            {
                ["notes"] = new JsonCheckpointable<List<string>>(() => notes, saved => notes = saved),
            },
        };
    },
    options: new RunOptions
    {
        WorkDir = workDir,
        Steps = steps,
        Seed = 42,
        Schedule = new CheckpointSchedule(EveryIterations: 100),
        Keep = 3,
    });

Console.WriteLine($"{result.Outcome} at step {result.Iteration}, resumed from {result.ResumedFrom ?? "nothing"}");
Console.WriteLine($"weights-sha256: {result.WeightsSha256}");
