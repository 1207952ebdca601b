using Orchestrator.Tests.Cluster;
using Orchestrator.Tests.Support;

namespace Orchestrator.Tests.Packaging;

/// <summary>
/// The whole path of a user with a model of their own, as the README tells it: a class library outside the
/// repository that references Orchestrator.Trainer from the folder feed, run by the installed tool with
/// ranks and faults, killed and rerun, and on a two-node cluster that loses a worker.
/// </summary>
[Collection(PackagedOrchestrator.Collection)]
public sealed class PackagedUserJobTests(PackagedOrchestrator packaged) : IDisposable
{
    private static readonly Lock Gate = new();
    private static string? _library;
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    // The README's job, built once per test run from the feed.
    private string Library()
    {
        lock (Gate)
        {
            return _library ??= packaged.BuildProject("TeamJobs", new Dictionary<string, string>
            {
                ["Autoencoder.cs"] = File.ReadAllText(Path.Combine(PackagedOrchestrator.RepositoryRoot, "examples", "MyJobs", "Autoencoder.cs")),
            });
        }
    }

    private static string[] Train(string library, string workDir, params string[] more) =>
        ["train", "--job-assembly", library, "--job", "autoencoder", "--work-dir", workDir, "--steps", "150", "--checkpoint-every", "20", "--threads", "1", "--quiet", .. more];

    [Fact]
    public void Two_ranks_through_a_crash_a_hang_and_a_NaN_end_on_the_clean_weights_and_history_status_and_plot_read_the_job()
    {
        var clean = packaged.RunTool(Train(Library(), _temp.Sub("clean"), "--ranks", "2"));
        Assert.True(clean.ExitCode == 0, clean.ToString());
        var dir = _temp.Sub("faulty");

        var faulty = packaged.RunTool(Train(Library(), dir, "--ranks", "2", "--step-timeout", "3",
            "--inject-fault", "crash@step=30,rank=1", "--inject-fault", "hang@step=70,rank=0", "--inject-fault", "nan@step=110,rank=1"));

        Assert.True(faulty.ExitCode == 0, faulty.ToString());
        Assert.Equal(clean.WeightsSha256, faulty.WeightsSha256);
        var history = packaged.RunTool(["history", "--work-dir", dir]);
        Assert.Contains($"job autoencoder from {Library()}", history.Output);
        Assert.Contains("3 failure(s), 3 restart(s)", history.Output);
        Assert.Contains("completed", packaged.RunTool(["status", "--work-dir", dir]).Output);
        var plot = packaged.RunTool(["plot", "--work-dir", dir]);
        Assert.True(plot.ExitCode == 0, plot.ToString());
        Assert.True(new FileInfo(Path.Combine(dir, "plot.png")).Length > 0);
    }

    [Fact]
    public void Killed_with_SIGKILL_and_rerun_it_ends_on_the_uninterrupted_weights()
    {
        var straight = packaged.RunTool(Train(Library(), _temp.Sub("straight"), "--ranks", "2"));
        var dir = _temp.Sub("killed");

        foreach (var step in new[] { 17, 64 })
        {
            var killed = packaged.RunTool(Train(Library(), dir, "--ranks", "2"), new Dictionary<string, string> { ["ORCHESTRATOR_KILL_AT"] = $"step:{step}" });
            Assert.True(killed.ExitCode == 137, killed.ToString());
        }
        var resumed = packaged.RunTool(Train(Library(), dir, "--ranks", "2"));

        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.Equal(straight.WeightsSha256, resumed.WeightsSha256);
    }

    [Fact]
    public async Task On_a_two_node_cluster_that_loses_its_worker_the_job_completes()
    {
        using var cluster = new LocalCluster { Program = packaged.ToolCommand };
        var jobs = Path.Combine(cluster.Shared, "jobs");
        Directory.CreateDirectory(jobs);
        foreach (var file in Directory.GetFiles(Path.GetDirectoryName(Library())!))
        {
            File.Copy(file, Path.Combine(jobs, Path.GetFileName(file)));
        }
        var library = Path.Combine(jobs, Path.GetFileName(Library()));
        var (pa, pb) = (NodeProcess.FreePort(), NodeProcess.FreePort());
        var a = cluster.Node(pa, $"127.0.0.1:{pa}");
        var b = cluster.Node(pb, $"127.0.0.1:{pa}");
        await a.WaitForAllAsync(new[] { a, b }.Select(n => $"node {n.HostPort} joined"));
        var workDir = Path.Combine(cluster.Shared, "job");

        using var follower = cluster.Client(
            "submit", "--cluster", a.HostPort, "--job-assembly", library, "--job", "autoencoder", "--work-dir", workDir,
            "--steps", "3000", "--checkpoint-every", "40", "--threads", "1", "--min-ranks", "1", "--max-ranks", "2", "--wait");
        await a.WaitForLineAsync(line => line.Contains("checkpoint iter_40", StringComparison.Ordinal));
        b.KillHard();

        Assert.Equal(0, follower.WaitForExit(TimeSpan.FromMinutes(3)));
        Assert.Contains("completed: step 3000/3000", follower.Text);
        var history = packaged.RunTool(["history", "--work-dir", workDir, "--journal", $"sqlite:{cluster.JournalFile}"]).Output;
        Assert.Contains("ranks started   generation 1, 2 rank(s)", history);
        Assert.Contains($"{b.HostPort} holding rank", history);
        Assert.Contains("completed       at step 3000", history);
    }
}
