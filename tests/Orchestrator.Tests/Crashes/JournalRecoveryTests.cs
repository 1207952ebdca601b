using Orchestrator.Tests.Support;

namespace Orchestrator.Tests.Crashes;

/// <summary>
/// The whole process is killed (kill -9) in the middle of a two-rank job; the same command, run again,
/// recovers the job from its journal and the newest checkpoint, on SQLite and on PostgreSQL.
/// </summary>
public sealed class JournalRecoveryTests : IDisposable
{
    public const string PostgresVariable = "ORCHESTRATOR_TEST_POSTGRES";
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Kill_9_mid_job_then_the_same_command_recovers_and_finishes_identically_on_SQLite() =>
        KillAndRecover([]);

    [Fact]
    public void Kill_9_mid_job_then_the_same_command_recovers_and_finishes_identically_on_PostgreSQL()
    {
        var connection = Environment.GetEnvironmentVariable(PostgresVariable);
        Assert.False(string.IsNullOrEmpty(connection),
            $"{PostgresVariable} is not set: run 'bash .ci/run' (it starts PostgreSQL) or export {PostgresVariable}=\"$(bash .ci/postgres.sh)\"");

        KillAndRecover(["--journal", $"postgres:{connection}"]);
    }

    private void KillAndRecover(string[] journal)
    {
        var straight = CliProcess.Run(CliProcess.Train("cnn", _temp.Sub("straight"), 40, more: ["--ranks", "2", .. journal]));
        var dir = _temp.Sub("killed");
        string[] command = [.. CliProcess.Train("cnn", dir, 40, more: ["--ranks", "2", "--inject-fault", "kill-process@step=25", .. journal])];

        var killed = CliProcess.Run(command);
        var recovered = CliProcess.Run(command);
        var again = CliProcess.Run(command);
        var history = CliProcess.Run(["history", "--work-dir", dir, .. journal]);
        var status = CliProcess.Run(["status", "--work-dir", dir, .. journal]);

        Assert.True(straight.ExitCode == 0, straight.ToString());
        Assert.Equal(137, killed.ExitCode);
        Assert.True(recovered.ExitCode == 0, recovered.ToString());
        Assert.Equal(straight.WeightsSha256, recovered.WeightsSha256);
        Assert.Contains("already complete at step 40", again.Output);
        Assert.Contains("fault injected  kill-process@step=25,rank=0", history.Output);
        Assert.Matches("ranks started   generation \\d+, 2 rank\\(s\\), from iter_(10|20) at step (10|20)", history.Output);
        Assert.Contains("completed       at step 40", history.Output);
        Assert.Contains("state:      completed", status.Output);
        Assert.Contains($"weights-sha256: {straight.WeightsSha256}", status.Output);
    }
}
