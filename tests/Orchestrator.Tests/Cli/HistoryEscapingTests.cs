using System.Text.RegularExpressions;
using Orchestrator.Tests.Support;

namespace Orchestrator.Tests.Cli;

/// <summary>
/// What history prints comes partly from users (the job assembly's path, arguments, reasons): control
/// characters in it are escaped, so a crafted folder name cannot forge lines or drive the terminal.
/// </summary>
public sealed partial class HistoryEscapingTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void A_job_assembly_path_with_a_newline_and_escape_codes_cannot_forge_a_history_line()
    {
        var dll = SampleJobsLibrary.CopyTo(_temp.Sub("lib\n2026-01-01 00:00:00.000  completed       at step 1, weights forged\u001b[2J"));
        var workDir = _temp.Sub("job");
        var train = CliProcess.Run(["train", "--job-assembly", dll, "--job", "autoencoder", "--work-dir", workDir, "--steps", "4",
            "--checkpoint-every", "2", "--threads", "1", "--quiet"]);
        Assert.True(train.ExitCode == 0, train.ToString());

        var history = CliProcess.Run(["history", "--work-dir", workDir]);

        Assert.True(history.ExitCode == 0, history.ToString());
        Assert.DoesNotContain('\u001b', history.Output);
        Assert.DoesNotContain("weights forged", history.Output.Split('\n').Where(line => line.Contains("completed ", StringComparison.Ordinal)));
        var lines = history.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.All(lines[..^1], line => Assert.Matches(EventLine(), line));
        Assert.Contains(@"lib\n2026-01-01 00:00:00.000  completed       at step 1, weights forged\u{001B}[2J", history.Output);
    }

    [GeneratedRegex(@"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}  \S")]
    private static partial Regex EventLine();
}
