using Orchestrator.Trainer.Data;
using Orchestrator.Trainer.Runtime;
using Orchestrator.Trainer.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Jobs;

/// <summary><c>mlp</c>: regression of a smooth nonlinear function of 16 inputs, made from the seed.</summary>
public sealed class MlpJob : IJobDefinition
{
    public const string Name = "mlp";

    string IJobDefinition.Name => Name;

    TrainingJob IJobDefinition.Create(JobContext context) => Create(BuiltInJobOptions.From(context));

    public const int DefaultBatchSize = 64;
    private const int Inputs = 16;

    private const int DefaultSamples = 4096;

    // mlp: 16 inputs a sample, 64 MB at the most; a width of 16,384 is 268 M weights (1 GB) in the hidden layer,
    // room for the benchmark's 100 MB and 500 MB models (widths 5,000 and 11,180), far from a 40 GB typo.
    public static readonly BuiltInJobRanges Ranges = new(Name, MaxSamples: 1_000_000, MaxWidth: 16_384);

    public static TrainingJob Create(BuiltInJobOptions options)
    {
        Ranges.Check(options, DefaultSamples, DefaultBatchSize);
        var device = DeterministicRuntime.ResolveDevice(options.Device);
        var samples = options.Samples ?? DefaultSamples;
        var width = options.Width ?? 64;
        using var generator = new Generator(unchecked((ulong)options.Seed) ^ 0x6D6C70UL);
        var x = randn([samples, Inputs], generator: generator);
        using var direction = randn([Inputs, 1], generator: generator);
        using var noise = randn([samples, 1], generator: generator);
        // Every Scalar is held for the whole computation: an inline one (the 0.3 of `x * 0.3`, the alpha of 1
        // inside `a + b`) is unreachable during the native call, and the finalizer thread may free it there.
        using var one = 1.0.ToScalar();
        using var slope = 0.3.ToScalar();
        using var noiseScale = 0.05.ToScalar();
        using var wave = x.matmul(direction).sin();
        using var firstInput = x.narrow(1, 0, 1);
        using var trend = firstInput.mul(slope);
        using var scaledNoise = noise.mul(noiseScale);
        var y = wave.add(trend, alpha: one).add_(scaledNoise, alpha: one);
        var model = new MlpModel(width).to(device);
        return new TrainingJob
        {
            Name = Name,
            Model = model,
            Optimizer = new Training.Adam(model.parameters(), options.LearningRate ?? 1e-3),
            LearningRate = new ConstantLearningRate(options.LearningRate ?? 1e-3),
            Data = new ShuffledTensorDataset(x, y, options.BatchSize ?? DefaultBatchSize, options.Rank, options.Ranks),
            Loss = batch => nn.functional.mse_loss(model.call(batch.Input), batch.Target),
            Device = device,
        };
    }

    private sealed class MlpModel : nn.Module<Tensor, Tensor>
    {
        private readonly Linear hidden1;
        private readonly Linear hidden2;
        private readonly Linear output;

        public MlpModel(int width) : base(nameof(MlpModel))
        {
            hidden1 = nn.Linear(Inputs, width);
            hidden2 = nn.Linear(width, width);
            output = nn.Linear(width, 1);
            RegisterComponents();
        }

        public override Tensor forward(Tensor input)
        {
            using var h1 = nn.functional.relu(hidden1.call(input));
            using var h2 = nn.functional.relu(hidden2.call(h1));
            return output.call(h2);
        }
    }
}
