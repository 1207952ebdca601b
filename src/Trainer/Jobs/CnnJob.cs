using Orchestrator.Trainer.Data;
using Orchestrator.Trainer.Runtime;
using Orchestrator.Trainer.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Jobs;

/// <summary>
/// <c>cnn</c>: classify 16x16 images into four classes (a bright bar in one of four orientations, under
/// noise) with a small conv net with BatchNorm, so checkpoints carry running statistics as buffers.
/// </summary>
public sealed class CnnJob : IJobDefinition
{
    public const string Name = "cnn";

    string IJobDefinition.Name => Name;

    TrainingJob IJobDefinition.Create(JobContext context) => Create(BuiltInJobOptions.From(context));

    public const int DefaultBatchSize = 32;
    private const int Side = 16;
    private const int Classes = 4;

    private const int DefaultSamples = 1024;

    // cnn: 256 pixels a sample, 100 MB at the most; a width of 1,024 is 2,048 channels of 16 x 16 activations per image.
    public static readonly BuiltInJobRanges Ranges = new(Name, MaxSamples: 100_000, MaxWidth: 1024);

    public static TrainingJob Create(BuiltInJobOptions options)
    {
        Ranges.Check(options, DefaultSamples, DefaultBatchSize);
        var device = DeterministicRuntime.ResolveDevice(options.Device);
        var samples = options.Samples ?? DefaultSamples;
        var width = options.Width ?? 8;
        using var generator = new Generator(unchecked((ulong)options.Seed) ^ 0x636E6EUL);
        var labels = randint(Classes, [samples], generator: generator, dtype: ScalarType.Int64);
        // Scalars are held, not written inline: an inline one is unreachable during the native call, and the
        // finalizer thread may free it there.
        using var one = 1.0.ToScalar();
        using var noiseScale = 0.5.ToScalar();
        var images = randn([samples, 1, Side, Side], generator: generator).mul_(noiseScale);
        using (var patterns = Patterns(one))
        using (var selected = patterns.index_select(0, labels))
        {
            images.add_(selected, alpha: one);
        }
        var model = new CnnModel(width).to(device);
        return new TrainingJob
        {
            Name = Name,
            Model = model,
            Optimizer = new Training.Adam(model.parameters(), options.LearningRate ?? 2e-3),
            LearningRate = new StepDecayLearningRate(options.LearningRate ?? 2e-3, StepSize: 200, Gamma: 0.5),
            Data = new ShuffledTensorDataset(images, labels, options.BatchSize ?? DefaultBatchSize, options.Rank, options.Ranks),
            Loss = batch => nn.functional.cross_entropy(model.call(batch.Input), batch.Target),
            Device = device,
        };
    }

    private static Tensor Patterns(Scalar one)
    {
        var patterns = zeros([Classes, 1, Side, Side]);
        using (var horizontal = patterns[0, 0, Side / 2])
        using (var vertical = patterns[1, 0, .., Side / 2])
        {
            horizontal.fill_(one);
            vertical.fill_(one);
        }
        for (var i = 0; i < Side; i++)
        {
            using var diagonal = patterns[2, 0, i, i];
            using var antiDiagonal = patterns[3, 0, i, Side - 1 - i];
            diagonal.fill_(one);
            antiDiagonal.fill_(one);
        }
        return patterns;
    }

    private sealed class CnnModel : nn.Module<Tensor, Tensor>
    {
        private readonly Conv2d conv1;
        private readonly BatchNorm2d norm1;
        private readonly Conv2d conv2;
        private readonly BatchNorm2d norm2;
        private readonly Linear head;

        public CnnModel(int width) : base(nameof(CnnModel))
        {
            conv1 = nn.Conv2d(1, width, 3, padding: 1);
            norm1 = nn.BatchNorm2d(width);
            conv2 = nn.Conv2d(width, width * 2, 3, padding: 1);
            norm2 = nn.BatchNorm2d(width * 2);
            head = nn.Linear(width * 2, Classes);
            RegisterComponents();
        }

        public override Tensor forward(Tensor input)
        {
            using var scope = NewDisposeScope();
            var h = nn.functional.max_pool2d(nn.functional.relu(norm1.call(conv1.call(input))), 2);
            h = nn.functional.relu(norm2.call(conv2.call(h)));
            h = h.mean([2L, 3L]);
            return head.call(h).MoveToOuterDisposeScope();
        }
    }
}
