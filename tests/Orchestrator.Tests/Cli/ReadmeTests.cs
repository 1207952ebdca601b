using Orchestrator.Cli.Commands;
using Orchestrator.Tests.Support;

namespace Orchestrator.Tests.Cli;

/// <summary>What the README shows a newcomer is what the program says and what the tests build.</summary>
public sealed class ReadmeTests
{
    private static readonly string Readme = File.ReadAllText(Path.Combine(PackagedOrchestrator.RepositoryRoot, "README.md"));

    [Fact]
    public void The_README_shows_train_usage_as_the_program_prints_it()
    {
        var help = string.Join('\n', TrainCommand.Help.Split('\n').Select(l => l.TrimEnd()));

        Assert.Contains(help, Readme);
    }

    [Fact]
    public void The_README_shows_the_job_library_example_exactly_as_it_is_compiled()
    {
        var source = File.ReadAllText(Path.Combine(PackagedOrchestrator.RepositoryRoot, "examples", "MyJobs", "Autoencoder.cs")).Trim();

        Assert.Contains(source, Readme);
    }
}
