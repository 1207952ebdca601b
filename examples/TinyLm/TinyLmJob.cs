using Orchestrator.Trainer.Data;
using Orchestrator.Trainer.Jobs;
using Orchestrator.Trainer.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace TinyLm;

/// <summary>
/// <c>tinylm</c>: a small byte-level language model trained on a real text file. The text is turned into a
/// token file in the job's work dir once, then read memory-mapped by <see cref="TokenFileDataset"/>, each rank
/// its share of each global batch.
/// </summary>
/// <remarks>
/// Job arguments (<c>--job-arg KEY=VALUE</c>): <c>text</c> (a UTF-8 text file; default the short story
/// shipped in this assembly), <c>context</c> (tokens per window, 32), <c>width</c> (model width, 64; also
/// <c>--width</c>), <c>batchSize</c> (global batch, 32; also <c>--batch-size</c>), <c>learningRate</c>
/// (3e-3; also <c>--lr</c>) and <c>stride</c> (tokens between window starts, 1).
/// </remarks>
public sealed class TinyLmJob : IJobDefinition
{
    public const string JobName = "tinylm";
    public const int DefaultContext = 32;

    public string Name => JobName;

    public TrainingJob Create(JobContext context)
    {
        var args = context.Args;
        var text = args.OptionalString("text");
        var contextLength = Positive(args, "context", DefaultContext);
        var width = Positive(args, BuiltInJobOptions.WidthKey, 64);
        var batchSize = Positive(args, BuiltInJobOptions.BatchSizeKey, 32);
        var learningRate = args.Double(BuiltInJobOptions.LearningRateKey, 3e-3);
        var stride = Positive(args, "stride", 1);

        var tokenFile = Corpus.TokenFileFor(text, context.WorkDir);
        // The data first: it checks the file and the shard before a model is built that would then leak.
        var data = new TokenFileDataset(tokenFile, TokenWidth.UInt16, contextLength, batchSize, context.Rank, context.WorldSize, ByteTokenizer.VocabularySize, stride);
        var model = new TinyLmModel(ByteTokenizer.VocabularySize, contextLength, width).to(context.Device);
        return new TrainingJob
        {
            Name = JobName,
            Model = model,
            Optimizer = new Adam(model.parameters(), learningRate), // the GC-safe Adam of Orchestrator.Trainer
            LearningRate = new WarmupCosineLearningRate(learningRate, WarmupSteps: 20, TotalSteps: 2000, Floor: learningRate / 10),
            Data = data,
            Loss = batch => nn.functional.cross_entropy(model.call(batch.Input).flatten(0, 1), batch.Target.flatten()),
            Device = context.Device,
        };
    }

    private static int Positive(JobArgs args, string key, int defaultValue)
    {
        var value = args.Int(key, defaultValue);
        return value > 0 ? value : throw new JobArgumentException(key, $"job argument {key}={value} must be positive");
    }
}
