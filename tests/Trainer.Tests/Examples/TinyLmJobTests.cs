using Orchestrator.Trainer.Data;
using Orchestrator.Trainer.Jobs;
using Orchestrator.Trainer.Tests.Support;
using Orchestrator.Trainer.Training;
using TinyLm;

namespace Orchestrator.Trainer.Tests.Examples;

/// <summary>The example job library of examples/TinyLm, run in process through <see cref="TrainingRun"/>.</summary>
public sealed class TinyLmJobTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Tinylm_learns_its_text_and_a_resumed_run_ends_with_the_uninterrupted_weights()
    {
        var straightSteps = new RecordingObserver();
        var straight = TrainingRun.Execute(Factory(_temp.Sub("straight")), Runs.Options(_temp.Sub("straight"), steps: 60), straightSteps);
        var split = _temp.Sub("split");
        TrainingRun.Execute(Factory(split), Runs.Options(split, steps: 23));
        var resumed = TrainingRun.Execute(Factory(split), Runs.Options(split, steps: 60));

        Assert.EndsWith("iter_23", resumed.ResumedFrom);
        Assert.Equal(straight.WeightsSha256, resumed.WeightsSha256);
        var first = straightSteps.Steps[0].Loss;
        var last = straightSteps.Steps.TakeLast(5).Average(s => s.Loss);
        Assert.True(first > 5 && last < first - 1.5, $"loss went from {first:F2} to {last:F2}");
    }

    [Fact]
    public void The_text_becomes_a_token_file_in_the_work_dir_once_and_a_new_text_a_new_one()
    {
        var workDir = _temp.Sub("work");
        var own = _temp.Sub("own.txt");
        File.WriteAllText(own, "A text of the user's own, long enough for one window and then some more words.");

        Create(workDir).Dispose();
        var written = File.GetLastWriteTimeUtc(Directory.GetFiles(Path.Combine(workDir, "tokens")).Single());
        Create(workDir).Dispose();
        using var job = Create(workDir, ("text", own), ("context", "8"), ("batchSize", "4"));

        var files = Directory.GetFiles(Path.Combine(workDir, "tokens")).Select(f => Path.GetFileName(f)).Order().ToArray();
        Assert.Equal(2, files.Length);
        Assert.StartsWith("harbour-", files[0]);
        Assert.StartsWith("own-", files[1]);
        Assert.Equal(written, File.GetLastWriteTimeUtc(Path.Combine(workDir, "tokens", files[0])));
        Assert.Equal(4, job.Data.GlobalBatchSize);
        using var batch = job.Data.Read(DataCursor.Start(0));
        Assert.Equal([4L, 8], batch.Input.shape);
    }

    [Fact]
    public void Each_rank_reads_its_half_of_the_global_batch()
    {
        using var whole = Create(_temp.Sub("work"));
        using var rank0 = Create(_temp.Sub("work"), rank: 0, worldSize: 2);
        using var rank1 = Create(_temp.Sub("work"), rank: 1, worldSize: 2);
        var cursor = new DataCursor(1, 4, 3);

        using var all = whole.Data.Read(cursor);
        using var first = rank0.Data.Read(cursor);
        using var second = rank1.Data.Read(cursor);

        Assert.Equal(32, rank1.Data.GlobalBatchSize);
        Assert.Equal(all.Input.data<long>().ToArray(), first.Input.data<long>().ToArray().Concat(second.Input.data<long>().ToArray()));
    }

    [Fact]
    public void A_missing_text_or_a_bad_argument_is_refused_by_name()
    {
        var missing = Assert.Throws<FileNotFoundException>(() => Create(_temp.Sub("w"), ("text", _temp.Sub("nope.txt"))));
        Assert.Contains("nope.txt does not exist (job argument text=PATH)", missing.Message);
        Assert.Equal("context", Assert.Throws<JobArgumentException>(() => Create(_temp.Sub("w"), ("context", "0"))).Key);
        Assert.Equal("width", Assert.Throws<JobArgumentException>(() => Create(_temp.Sub("w"), ("width", "wide"))).Key);
        Assert.Contains("does not divide the batch of 32", Assert.Throws<ArgumentException>(() => Create(_temp.Sub("w"), rank: 0, worldSize: 3)).Message);
    }

    private static Func<TrainingJob> Factory(string workDir) => () => Create(workDir, ("width", "32"));

    private static TrainingJob Create(string workDir, params (string Key, string Value)[] args) => Create(workDir, 0, 1, args);

    private static TrainingJob Create(string workDir, int rank, int worldSize, params (string Key, string Value)[] args) =>
        ((IJobDefinition)new TinyLmJob()).Create(new JobContext
        {
            Rank = rank,
            WorldSize = worldSize,
            Seed = 3,
            WorkDir = workDir,
            Args = new JobArgs(args.ToDictionary(a => a.Key, a => a.Value)),
        });
}
