using Orchestrator.Tests.Support;

namespace Orchestrator.Tests.Cli;

/// <summary>
/// Folders and files the user may not read or write: one line naming the path and the fix, exit 2, nothing
/// made. Run as root (CI containers), the program is started without the capabilities that let root ignore
/// permission bits (setpriv drops CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH), so the bits are obeyed as for
/// any user.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")] // Unix permission bits; the project targets Linux
public sealed class PermissionBadInputTests : IDisposable
{
    private readonly TempDirectory _temp = new();
    private readonly List<string> _restricted = [];

    public void Dispose()
    {
        foreach (var path in _restricted)
        {
            File.SetUnixFileMode(path, Directory.Exists(path) ? (UnixFileMode)0b111_101_101 : (UnixFileMode)0b110_100_100);
        }
        _temp.Dispose();
    }

    [Fact]
    public void History_status_and_plot_of_an_unreadable_work_dir_say_it_is_unreadable()
    {
        var dir = Restricted(_temp.Sub("locked"), directory: true, mode: 0);

        foreach (var command in new[] { "history", "status", "plot" })
        {
            Assert.Equal($"error: work dir {dir} is not readable ({dir}: permission denied); fix its permissions or give another --work-dir",
                Refused([command, "--work-dir", dir]));
        }
    }

    [Fact]
    public void Train_in_a_work_dir_it_may_not_write_is_refused_before_anything_is_made()
    {
        var dir = Restricted(_temp.Sub("readonly"), directory: true, mode: 0b101_101_101);

        Assert.Equal($"error: work dir {dir} is not writable ({dir}: permission denied); fix its permissions or give another --work-dir",
            Refused(CliProcess.Train("mlp", dir, 5)));
        Assert.Equal($"error: work dir {Path.Combine(dir, "run")} is not writable ({dir}: permission denied); fix its permissions or give another --work-dir",
            Refused(CliProcess.Train("mlp", Path.Combine(dir, "run"), 5)));
        Assert.Empty(Directory.GetFileSystemEntries(dir));
    }

    [Fact]
    public void Train_with_an_unreadable_config_file_names_the_file()
    {
        var config = Restricted(_temp.Sub("train.json"), directory: false, mode: 0);

        Assert.Equal($"error: config file {config} cannot be read (permission denied); fix its permissions", Refused(["train", "--config", config]));
    }

    [Fact]
    public void Train_with_a_read_only_journal_names_the_journal()
    {
        var dir = _temp.Sub("run");
        Directory.CreateDirectory(dir);
        var journal = Restricted(Path.Combine(dir, "journal.db"), directory: false, mode: 0b100_100_100);

        Assert.Equal($"error: journal {journal} is not writable (permission denied); fix its permissions or give another --work-dir",
            Refused(CliProcess.Train("mlp", dir, 5)));
    }

    private string Restricted(string path, bool directory, int mode)
    {
        if (directory)
        {
            Directory.CreateDirectory(path);
        }
        else
        {
            File.WriteAllText(path, "{}");
        }
        File.SetUnixFileMode(path, (UnixFileMode)mode);
        _restricted.Add(path);
        return path;
    }

    private static string Refused(IEnumerable<string> args)
    {
        var result = WithoutPermissionOverride.Run(args);
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.DoesNotContain("Exception", result.Error);
        return Assert.Single(result.Error.Trim().Split('\n'));
    }

}
