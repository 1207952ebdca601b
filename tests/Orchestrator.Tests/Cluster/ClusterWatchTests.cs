using System.Text.RegularExpressions;
using Orchestrator.Tests.Support;

namespace Orchestrator.Tests.Cluster;

/// <summary>
/// <c>status --cluster --watch --work-dir</c> against a one-node cluster: the node with its health and devices,
/// the job with its checkpoint's age (carried across the network), and exit 0 when the job completes.
/// </summary>
public sealed class ClusterWatchTests : IDisposable
{
    private readonly LocalCluster _cluster = new();

    public void Dispose() => _cluster.Dispose();

    [Fact]
    public async Task Watching_a_cluster_job_shows_the_node_and_the_job_and_exits_0_when_it_completes()
    {
        var port = NodeProcess.FreePort();
        var node = _cluster.Node(port, $"127.0.0.1:{port}");
        await node.WaitForLineAsync(line => line.Contains($"node {node.HostPort} joined", StringComparison.Ordinal));
        var workDir = Path.Combine(_cluster.Shared, "job");
        var submit = _cluster.Run("submit", "--cluster", node.HostPort, "--job", "mlp", "--work-dir", workDir, "--steps", "200",
            "--checkpoint-every", "50", "--samples", "512", "--threads", "1");
        Assert.True(submit.ExitCode == 0, submit.ToString());

        var watch = _cluster.Client("status", "--cluster", node.HostPort, "--watch", "--work-dir", workDir, "--interval", "0.2");

        Assert.Equal(0, watch.WaitForExit(TimeSpan.FromMinutes(2)));
        var lines = watch.Text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Contains(lines, l => Regex.IsMatch(l, $@"^\d\d:\d\d:\d\d node {Regex.Escape(node.HostPort)} up cpu ranks "));
        Assert.Matches($@"^\d\d:\d\d:\d\d {Regex.Escape(workDir)}: completed step 200/200 loss \d+\.\d{{4}} ckpt iter_200 \(\d+ s ago\) restarts 0", lines[^1]);
        Assert.DoesNotContain('\u001b', watch.Text);
    }
}
