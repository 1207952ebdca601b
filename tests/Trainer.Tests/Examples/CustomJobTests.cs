using System.Diagnostics;
using Orchestrator.Trainer.Tests.Support;

namespace Orchestrator.Trainer.Tests.Examples;

/// <summary>The user-defined job of the README: compiled with this suite, run as its own process.</summary>
public sealed class CustomJobTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void The_custom_job_example_trains_resumes_and_matches_an_uninterrupted_run()
    {
        var straight = RunExample(_temp.Sub("straight"), 200);
        var first = RunExample(_temp.Sub("split"), 120);
        var resumed = RunExample(_temp.Sub("split"), 200);

        Assert.Contains("Completed at step 120, resumed from nothing", first);
        Assert.Contains("resumed from ", resumed);
        Assert.Contains("iter_120", resumed);
        Assert.Equal(Digest(straight), Digest(resumed));
        Assert.True(File.Exists(Path.Combine(_temp.Sub("split"), "checkpoints", "iter_200", "notes.tensors")) is false);
        Assert.Contains("\"notes\"", File.ReadAllText(Path.Combine(_temp.Sub("split"), "checkpoints", "iter_200", "MANIFEST.json")));
    }

    [Fact]
    public void The_README_shows_the_example_exactly_as_it_is_compiled()
    {
        var root = RepositoryRoot();
        var source = File.ReadAllText(Path.Combine(root, "examples", "CustomJob", "Program.cs")).Trim();
        var readme = File.ReadAllText(Path.Combine(root, "README.md"));

        Assert.Contains(source, readme);
    }

    private static string RunExample(string workDir, int steps)
    {
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "CustomJob.dll"), workDir, steps.ToString()])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(2)), "example did not finish");
        Assert.True(process.ExitCode == 0, $"exit {process.ExitCode}: {error.Result}");
        return output.Result;
    }

    private static string Digest(string output) =>
        output.Split('\n').Single(l => l.StartsWith("weights-sha256: ", StringComparison.Ordinal)).Trim();

    internal static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Orchestrator.sln")))
        {
            directory = directory.Parent;
        }
        return directory?.FullName ?? throw new InvalidOperationException("repository root not found above the test binaries");
    }
}
