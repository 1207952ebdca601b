using Orchestrator.Actors.Persistence;
using Orchestrator.Tests.Support;

namespace Orchestrator.Tests.Cluster;

/// <summary>
/// The node that runs a cluster job's supervisor owns the job's work dir while the job runs: a local train
/// there is refused naming the cluster, and the work dir is free again once the job stops.
/// </summary>
public sealed class ClusterOwnershipTests : IDisposable
{
    private readonly LocalCluster _cluster = new();

    public void Dispose() => _cluster.Dispose();

    [Fact]
    public async Task A_local_train_on_a_running_cluster_jobs_work_dir_is_refused_naming_the_cluster_and_allowed_after_the_stop()
    {
        var port = NodeProcess.FreePort();
        var node = _cluster.Node(port, $"127.0.0.1:{port}");
        await node.WaitForLineAsync(line => line.Contains($"node {node.HostPort} joined", StringComparison.Ordinal));
        var workDir = Path.Combine(_cluster.Shared, "job");
        var submit = _cluster.Run(["submit", "--cluster", node.HostPort, "--job", "mlp", "--work-dir", workDir, "--steps", "1000000",
            "--checkpoint-every", "50", "--samples", "512", "--threads", "1"]);
        Assert.True(submit.ExitCode == 0, submit.ToString());
        await node.WaitForLineAsync(line => line.Contains("checkpoint iter_50", StringComparison.Ordinal));

        var local = CliProcess.Run(CliProcess.Train("mlp", workDir, 100, 50, "--resume", "none", "--delete-existing"));

        Assert.True(local.ExitCode == 2, local.ToString());
        var line = Assert.Single(local.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("is in use by a cluster job of coordinator akka", line);
        Assert.Contains($"@127.0.0.1:{port}", line);
        Assert.True(Directory.Exists(Path.Combine(workDir, "checkpoints", "iter_50")));

        var stop = _cluster.Run(["stop", "--cluster", node.HostPort, "--work-dir", workDir]);
        Assert.True(stop.ExitCode == 0, stop.ToString());
        await node.WaitForLineAsync(line => line.Contains($"job in {workDir} ended: stopped", StringComparison.Ordinal));
        using var free = WorkDirLock.TryAcquire(workDir, "the test");
        Assert.NotNull(free);
    }
}
