using Orchestrator.Trainer.Jobs;
using Orchestrator.Trainer.Jobs.Loading;

namespace Orchestrator.Trainer.Tests.Jobs;

public sealed class JobFactoryTests
{
    private sealed class Throwing(Exception error) : IJobDefinition
    {
        public string Name => "thrower";

        public TrainingJob Create(JobContext context) => throw error;
    }

    [Fact]
    public void A_factory_that_throws_is_one_line_naming_the_job_and_the_rank()
    {
        var error = Assert.Throws<JobLoadException>(() => JobFactory.Create(new Throwing(new InvalidOperationException("no data in /srv\nsecond line")), new JobContext { Rank = 1, WorldSize = 2 }));

        Assert.Equal("job 'thrower' failed to build rank 1 of 2: no data in /srv", error.Message);
    }

    [Fact]
    public void A_package_missing_beside_the_job_library_says_how_to_bring_it()
    {
        var missing = new FileNotFoundException("Could not load file or assembly 'YamlDotNet, Version=16.0.0.0'.", "YamlDotNet, Version=16.0.0.0");

        var error = Assert.Throws<JobLoadException>(() => JobFactory.Create(new Throwing(missing), new JobContext()));

        Assert.EndsWith("(a package the job library uses is not beside its dll: add <EnableDynamicLoading>true</EnableDynamicLoading> to its project and rebuild)", error.Message);
    }

    [Fact]
    public void A_missing_data_file_is_not_taken_for_a_missing_package()
    {
        var missing = new FileNotFoundException("Could not find file '/data/train.bin'.", "/data/train.bin");

        var error = Assert.Throws<JobLoadException>(() => JobFactory.Create(new Throwing(missing), new JobContext()));

        Assert.Equal("job 'thrower' failed to build rank 0 of 1: Could not find file '/data/train.bin'.", error.Message);
    }
}
