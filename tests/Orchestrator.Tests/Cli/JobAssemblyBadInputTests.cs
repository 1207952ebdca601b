using Orchestrator.Tests.Support;

namespace Orchestrator.Tests.Cli;

/// <summary>
/// A user's job that cannot run is refused before anything is recorded: one line naming the problem and
/// the fix, exit code 2, and no work dir, journal or checkpoint left behind.
/// </summary>
public sealed class JobAssemblyBadInputTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    private string WorkDir => _temp.Sub("run");

    [Fact]
    public void A_missing_assembly_file()
    {
        var missing = _temp.Sub("MyJobs.dll");
        AssertRefused(missing, "autoencoder", [], $"error: job assembly {missing} does not exist; build your job library (dotnet build -c Release) and give its .dll");
    }

    [Fact]
    public void A_file_that_is_not_a_dotnet_assembly()
    {
        var text = _temp.Sub("notes.dll");
        File.WriteAllText(text, "not an assembly");
        AssertRefused(text, "autoencoder", [], $"error: {text} is not a .NET assembly; give the .dll your job library's build writes (bin/Release/net10.0/NAME.dll)");
    }

    [Fact]
    public void No_job_of_that_name_lists_the_names_found() =>
        AssertRefused(SampleJobsLibrary.DllPath, "autoencodr", [], $"error: {SampleJobsLibrary.DllPath} has no job 'autoencodr' (it has: autoencoder, fulljob, needs-data)");

    [Fact]
    public void An_assembly_built_against_another_major_version_of_the_trainer()
    {
        var copy = SampleJobsLibrary.CopyBuiltAgainstTrainer(_temp.Sub("old-build"), major: 2);
        AssertRefused(copy, "autoencoder", [],
            $"error: {copy} was built against Orchestrator.Trainer 2.0.0, which this orchestrator (1.0.0) cannot run; reference Orchestrator.Trainer 1.0.0 in your job library and rebuild it");
    }

    [Fact]
    public void An_argument_the_job_does_not_read() =>
        AssertRefused(SampleJobsLibrary.DllPath, "autoencoder", ["--job-arg", "widht=4"],
            "error: job 'autoencoder' does not know job argument(s) widht (it reads: batchSize, learningRate, samples, width)");

    [Fact]
    public void An_argument_of_the_wrong_type() =>
        AssertRefused(SampleJobsLibrary.DllPath, "autoencoder", ["--job-arg", "width=wide"], "error: job argument width='wide' is not a whole number");

    [Fact]
    public void An_argument_without_a_value() =>
        AssertRefused(SampleJobsLibrary.DllPath, "autoencoder", ["--job-arg", "width"], "error: --job-arg 'width' must be KEY=VALUE");

    [Fact]
    public void A_job_factory_that_throws_gives_its_message_in_one_line() =>
        AssertRefused(SampleJobsLibrary.DllPath, "needs-data", ["--job-arg", "data=/srv/none"],
            "error: job 'needs-data' failed to build rank 0 of 1: data folder /srv/none is missing");

    [Fact]
    public void A_job_setting_that_does_not_divide_the_ranks() =>
        AssertRefused(SampleJobsLibrary.DllPath, "autoencoder", ["--ranks", "3"],
            "error: --ranks 3 does not divide the global batch of 32; choose a world size that divides it, or change --batch-size");

    private void AssertRefused(string assembly, string job, string[] more, string expectedLine)
    {
        var result = CliProcess.Run(["train", "--job-assembly", assembly, "--job", job, "--work-dir", WorkDir, "--steps", "10", "--threads", "1", "--quiet", .. more]);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Equal(expectedLine, result.Error.Trim());
        Assert.False(Directory.Exists(WorkDir), "a refused job left a work dir behind");
    }
}
