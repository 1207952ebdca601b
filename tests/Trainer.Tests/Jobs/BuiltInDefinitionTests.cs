using Orchestrator.Trainer.Jobs;
using Orchestrator.Trainer.Training;

namespace Orchestrator.Trainer.Tests.Jobs;

/// <summary>The built-in jobs as definitions train exactly as their factories did, through the same TrainingRun.</summary>
public sealed class BuiltInDefinitionTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    private RunOptions Options(string name) => new() { WorkDir = _temp.Sub(name), Steps = 30, Seed = 4, Threads = 1, Schedule = new(EveryIterations: 10) };

    [Theory]
    [InlineData("mlp")]
    [InlineData("cnn")]
    [InlineData("charlm")]
    public void A_built_in_definition_run_with_arguments_matches_its_factory(string name)
    {
        var settings = new BuiltInJobOptions { Seed = 4, Samples = name == CharLmJob.Name ? 3000 : 256, Width = 16 };
        var byFactory = TrainingRun.Execute(JobCatalog.Factory(name, settings), Options("factory"));

        var byDefinition = TrainingRun.Execute(JobCatalog.Find(name)!, Options("definition"), new JobArgs(settings.AsArguments()));

        Assert.Equal(byFactory.WeightsSha256, byDefinition.WeightsSha256);
    }

    [Fact]
    public void An_argument_the_job_does_not_read_is_refused_before_any_step()
    {
        var args = new JobArgs(new Dictionary<string, string> { ["depth"] = "3" });

        var error = Assert.Throws<JobArgumentException>(() => TrainingRun.Execute(JobCatalog.Find(MlpJob.Name)!, Options("unknown"), args));

        Assert.Equal("job 'mlp' does not know job argument(s) depth (it reads: batchSize, learningRate, samples, width)", error.Message);
        Assert.False(Directory.Exists(Path.Combine(_temp.Sub("unknown"), "checkpoints")));
    }
}
