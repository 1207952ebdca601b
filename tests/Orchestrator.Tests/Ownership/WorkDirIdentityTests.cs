using Orchestrator.Tests.Support;

namespace Orchestrator.Tests.Ownership;

/// <summary>
/// The journal knows a job by the id in its work dir, not by the dir's path; a path is data, never part of
/// a connection string; a refused submit records nothing.
/// </summary>
public sealed class WorkDirIdentityTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void A_moved_work_dir_keeps_its_history_and_resumes()
    {
        var straight = ReferenceRuns.WeightsSha256("mlp", 40);
        var before = _temp.Sub("before");
        Assert.Equal(0, CliProcess.Run(CliProcess.Train("mlp", before, 20)).ExitCode);
        var after = _temp.Sub("after");
        Directory.Move(before, after);

        var history = CliProcess.Run(["history", "--work-dir", after]);
        var resumed = CliProcess.Run(CliProcess.Train("mlp", after, 40));

        Assert.True(history.ExitCode == 0, history.ToString());
        Assert.Contains("completed       at step 20", history.Output);
        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.Contains("resumed from iter_20", resumed.Error);
        Assert.Equal(straight, resumed.WeightsSha256);
        Assert.Contains("extended", CliProcess.Run(["history", "--work-dir", after]).Output);
    }

    [Fact]
    public void A_copied_work_dir_keeps_its_history()
    {
        var original = _temp.Sub("original");
        Assert.Equal(0, CliProcess.Run(CliProcess.Train("mlp", original, 20)).ExitCode);
        var copy = _temp.Sub("copy");
        CopyDirectory(original, copy);

        var history = CliProcess.Run(["history", "--work-dir", copy]);

        Assert.True(history.ExitCode == 0, history.ToString());
        Assert.Contains("submitted       job mlp", history.Output);
    }

    [Fact]
    public void A_submit_refused_for_another_jobs_checkpoint_records_nothing_and_the_right_command_then_runs()
    {
        var original = _temp.Sub("original");
        Assert.Equal(0, CliProcess.Run(CliProcess.Train("mlp", original, 20)).ExitCode);
        var fresh = _temp.Sub("checkpoints-only");
        CopyDirectory(Path.Combine(original, "checkpoints"), Path.Combine(fresh, "checkpoints"));

        var wrong = CliProcess.Run(CliProcess.Train("cnn", fresh, 30));
        var history = CliProcess.Run(["history", "--work-dir", fresh]);
        var right = CliProcess.Run(CliProcess.Train("mlp", fresh, 30));

        Assert.True(wrong.ExitCode == 2, wrong.ToString());
        Assert.Contains("is of job 'mlp', not 'cnn'", Assert.Single(wrong.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
        Assert.DoesNotContain("submitted", history.Output);
        Assert.True(right.ExitCode == 0, right.ToString());
        Assert.Contains("resumed from iter_20", right.Error);
    }

    [Fact]
    public void A_submit_refused_for_another_jobs_checkpoint_named_by_resume_path_records_nothing_and_the_right_command_then_runs()
    {
        var mlp = _temp.Sub("mlp");
        Assert.Equal(0, CliProcess.Run(CliProcess.Train("mlp", mlp, 10)).ExitCode);
        var dir = _temp.Sub("cnn");
        var named = Path.Combine(mlp, "checkpoints", "iter_10");

        var wrong = CliProcess.Run(CliProcess.Train("cnn", dir, 20, 10, "--resume", named));
        var history = CliProcess.Run(["history", "--work-dir", dir]);
        var right = CliProcess.Run(CliProcess.Train("cnn", dir, 20));

        Assert.True(wrong.ExitCode == 2, wrong.ToString());
        Assert.Equal($"error: checkpoint {named} is of job 'mlp', not 'cnn'; give --resume a checkpoint of job 'cnn', or --load-from for weights only",
            Assert.Single(wrong.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
        Assert.DoesNotContain("submitted", history.Output);
        Assert.True(right.ExitCode == 0, right.ToString());
    }

    [Fact]
    public void A_work_dir_whose_path_holds_a_connection_string_keeps_its_journal_inside()
    {
        var dir = _temp.Sub("x;Data Source=") + _temp.Sub("y");
        var elsewhere = _temp.Sub("y");

        var trained = CliProcess.Run(CliProcess.Train("mlp", dir, 20));
        var history = CliProcess.Run(["history", "--work-dir", dir]);

        Assert.True(trained.ExitCode == 0, trained.ToString());
        Assert.True(File.Exists(Path.Combine(dir, "journal.db")));
        Assert.False(Directory.Exists(elsewhere));
        Assert.True(history.ExitCode == 0, history.ToString());
        Assert.Contains("completed       at step 20", history.Output);
    }

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }
        foreach (var directory in Directory.GetDirectories(from))
        {
            CopyDirectory(directory, Path.Combine(to, Path.GetFileName(directory)));
        }
    }
}
