using Orchestrator.Tests.Support;

namespace Orchestrator.Tests.Cluster;

/// <summary>
/// SIGTERM to a node (a service manager stopping it, <c>docker stop</c>) is not a job's stop: the node says it
/// leaves the cluster, exits 0, and the job goes on from its latest checkpoint on the other node, under a
/// coordinator that moved there with it.
/// </summary>
public sealed class NodeLeaveTests : IDisposable
{
    private readonly LocalCluster _cluster = new();

    public void Dispose() => _cluster.Dispose();

    [Fact]
    public async Task SIGTERM_to_the_coordinators_node_makes_it_leave_and_the_job_goes_on_on_the_other_from_its_latest_checkpoint()
    {
        var (pa, pb) = (NodeProcess.FreePort(), NodeProcess.FreePort());
        var seeds = $"127.0.0.1:{pa},127.0.0.1:{pb}";
        var (a, b) = (_cluster.Node(pa, seeds), _cluster.Node(pb, seeds));
        await a.WaitForAllAsync(new[] { a, b }.Select(n => $"node {n.HostPort} joined"));
        var workDir = System.IO.Path.Combine(_cluster.Shared, "job");
        // More steps than the test ever runs: a job that could finish while its node leaves (a leave takes a few
        // gossip rounds, a few hundred steps of this job) would leave nothing to go on with.
        using var follower = _cluster.Client(
            "submit", "--cluster", b.HostPort, "--job", "mlp", "--work-dir", workDir, "--steps", "1000000", "--checkpoint-every", "40",
            "--batch-size", "48", "--samples", "960", "--threads", "1", "--min-ranks", "1", "--max-ranks", "2", "--wait");
        await ProcessOutputs.WithOutputs(a.WaitForLineAsync(line => line.Contains("checkpoint iter_40", StringComparison.Ordinal)), ("node a", a), ("node b", b), ("the submit --wait", follower));

        a.Terminate();

        Assert.Equal(0, a.WaitForExit(TimeSpan.FromMinutes(1)));
        Assert.Contains("SIGTERM: leaving the cluster: the ranks here stop and their jobs go on from their latest checkpoint on the other nodes; " +
            "a job coordinator here moves to the next oldest node (send again to exit at once)", a.Text);
        Assert.DoesNotContain("saving a checkpoint", a.Text);
        await ProcessOutputs.WithOutputs(b.WaitForLineAsync(line => line.Contains("continuing job mlp", StringComparison.Ordinal)), ("node a", a), ("node b", b), ("the submit --wait", follower));
        // A checkpoint written under the coordinator on b: the job trains there.
        await ProcessOutputs.WithOutputs(b.WaitForLineAsync(line => line.Contains("checkpoint iter_", StringComparison.Ordinal)), ("node a", a), ("node b", b), ("the submit --wait", follower));

        var stop = _cluster.Run("stop", "--cluster", b.HostPort, "--work-dir", workDir);
        Assert.True(stop.ExitCode == 0, stop.ToString());
        Assert.Equal(130, follower.WaitForExit(TimeSpan.FromMinutes(2)));
        var history = _cluster.History(workDir).Output.Split('\n');
        Assert.Contains(history, l => l.Contains("1 rank(s), from iter_", StringComparison.Ordinal));
        Assert.Contains(history, l => l.Contains("stopped", StringComparison.Ordinal));
        Assert.Equal(0, CliProcess.Run(["checkpoints", "verify", System.IO.Path.Combine(workDir, "checkpoints")]).ExitCode);
    }
}
