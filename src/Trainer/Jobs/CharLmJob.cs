using System.Text;
using Orchestrator.Trainer.Data;
using Orchestrator.Trainer.Runtime;
using Orchestrator.Trainer.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Jobs;

/// <summary>
/// <c>charlm</c>: a character-level language model (embedding, one hidden layer, softmax over characters)
/// predicting the next character from the previous 16, on text the job writes itself from the seed.
/// </summary>
public sealed class CharLmJob : IJobDefinition
{
    public const string Name = "charlm";

    string IJobDefinition.Name => Name;

    TrainingJob IJobDefinition.Create(JobContext context) => Create(BuiltInJobOptions.From(context));

    public const int DefaultBatchSize = 64;
    private const int Context = 16;

    private static readonly string[] Subjects = ["the trainer", "a checkpoint", "the cluster", "rank zero", "the optimizer", "a node"];
    private static readonly string[] Verbs = ["saves", "restores", "averages", "writes", "verifies", "resumes"];
    private static readonly string[] Objects = ["the weights", "every buffer", "the gradients", "its state", "the manifest", "the journal"];

    private const int DefaultSamples = 20_000;

    // charlm: a context window of longs per character, 128 MB at the most.
    public static readonly BuiltInJobRanges Ranges = new(Name, MaxSamples: 1_000_000, MaxWidth: 4096, ExamplesLost: Context);

    public static TrainingJob Create(BuiltInJobOptions options)
    {
        Ranges.Check(options, DefaultSamples, DefaultBatchSize);
        var device = DeterministicRuntime.ResolveDevice(options.Device);
        var text = WriteCorpus(options.Seed, options.Samples ?? DefaultSamples);
        var vocabulary = text.Distinct().Order().ToArray();
        var codes = text.Select(c => (long)Array.IndexOf(vocabulary, c)).ToArray();
        var windows = codes.Length - Context;
        var inputs = new long[windows * Context];
        var targets = new long[windows];
        for (var i = 0; i < windows; i++)
        {
            Array.Copy(codes, i, inputs, i * Context, Context);
            targets[i] = codes[i + Context];
        }
        var model = new CharLmModel(vocabulary.Length, options.Width ?? 128).to(device);
        return new TrainingJob
        {
            Name = Name,
            Model = model,
            Optimizer = new Training.Adam(model.parameters(), options.LearningRate ?? 3e-3),
            LearningRate = new WarmupCosineLearningRate(options.LearningRate ?? 3e-3, WarmupSteps: 50, TotalSteps: 2000, Floor: 3e-4),
            Data = new ShuffledTensorDataset(tensor(inputs).reshape(windows, Context), tensor(targets), options.BatchSize ?? DefaultBatchSize, options.Rank, options.Ranks),
            Loss = batch => nn.functional.cross_entropy(model.call(batch.Input), batch.Target),
            Device = device,
        };
    }

    internal static string WriteCorpus(long seed, int length)
    {
        var random = new SeededStream(seed);
        var text = new StringBuilder(length + 64);
        while (text.Length < length)
        {
            text.Append(Subjects[random.NextInt(Subjects.Length)]).Append(' ')
                .Append(Verbs[random.NextInt(Verbs.Length)]).Append(' ')
                .Append(Objects[random.NextInt(Objects.Length)]).Append(random.NextInt(4) == 0 ? ".\n" : ". ");
        }
        return text.ToString(0, length);
    }

    private sealed class CharLmModel : nn.Module<Tensor, Tensor>
    {
        private readonly Embedding embedding;
        private readonly Linear hidden;
        private readonly Linear output;

        public CharLmModel(int vocabulary, int width) : base(nameof(CharLmModel))
        {
            embedding = nn.Embedding(vocabulary, 24);
            hidden = nn.Linear(Context * 24, width);
            output = nn.Linear(width, vocabulary);
            RegisterComponents();
        }

        public override Tensor forward(Tensor input)
        {
            using var scope = NewDisposeScope();
            var e = embedding.call(input).flatten(1);
            var h = hidden.call(e).tanh();
            return output.call(h).MoveToOuterDisposeScope();
        }
    }
}
