using Orchestrator.Trainer.Data;
using Orchestrator.Trainer.Jobs;
using Orchestrator.Trainer.Tests.Support;
using Orchestrator.Trainer.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Tests.Data;

/// <summary>A run on a token file, stopped and resumed, against one that never stopped.</summary>
public sealed class TokenFileResumeTests : IDisposable
{
    private const int Context = 8;
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Stopping_and_resuming_a_token_file_run_ends_with_identical_weights()
    {
        var tokens = _temp.Sub("tokens.bin");
        var text = string.Concat(Enumerable.Repeat("the quick brown fox jumps over the lazy dog; ", 20));
        TokenFile.Write(tokens, ByteTokenizer.Encode(text), TokenWidth.UInt16);

        // 892 windows / 32 per batch = 27 batches an epoch: the stops fall inside and across epoch boundaries.
        var straight = TrainingRun.Execute(() => BigramJob(tokens), Runs.Options(_temp.Sub("straight"), steps: 70));
        var split = _temp.Sub("split");
        foreach (var stopAt in new long[] { 13, 27, 41 })
        {
            TrainingRun.Execute(() => BigramJob(tokens), Runs.Options(split, steps: stopAt));
        }
        var resumed = TrainingRun.Execute(() => BigramJob(tokens), Runs.Options(split, steps: 70));

        Assert.Equal(2, straight.Epoch);
        Assert.EndsWith("iter_41", resumed.ResumedFrom);
        Assert.Equal(straight.WeightsSha256, resumed.WeightsSha256);
    }

    private static TrainingJob BigramJob(string tokens)
    {
        var model = new Bigram();
        return new TrainingJob
        {
            Name = "bigram",
            Model = model,
            Optimizer = new Orchestrator.Trainer.Training.Adam(model.parameters(), 1e-2),
            LearningRate = new ConstantLearningRate(1e-2),
            Data = new TokenFileDataset(tokens, TokenWidth.UInt16, Context, batchSize: 32, vocabularySize: ByteTokenizer.VocabularySize),
            Loss = batch => nn.functional.cross_entropy(model.call(batch.Input).flatten(0, 1), batch.Target.flatten()),
        };
    }

    private sealed class Bigram : nn.Module<Tensor, Tensor>
    {
        private readonly Embedding embedding;
        private readonly Linear output;

        public Bigram() : base(nameof(Bigram))
        {
            embedding = nn.Embedding(ByteTokenizer.VocabularySize, 8);
            output = nn.Linear(8, ByteTokenizer.VocabularySize);
            RegisterComponents();
        }

        public override Tensor forward(Tensor input)
        {
            using var embedded = embedding.call(input);
            return output.call(embedded);
        }
    }
}
