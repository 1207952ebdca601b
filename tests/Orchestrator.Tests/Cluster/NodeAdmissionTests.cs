using Orchestrator.Tests.Support;

namespace Orchestrator.Tests.Cluster;

/// <summary>Nodes that do not belong: a wrong secret or setting is refused at once; a node without the shared volume gets no ranks.</summary>
public sealed class NodeAdmissionTests : IDisposable
{
    private readonly LocalCluster _cluster = new();

    public void Dispose() => _cluster.Dispose();

    [Fact]
    public async Task A_node_with_another_secret_or_another_downing_strategy_is_refused_with_the_reason()
    {
        var port = NodeProcess.FreePort();
        var seeds = $"127.0.0.1:{port}";
        var seed = _cluster.Node(port, seeds, secret: "s3cret");
        await seed.WaitForLineAsync(line => line.Contains($"node {seed.HostPort} joined", StringComparison.Ordinal));

        var wrongSecret = _cluster.Node(NodeProcess.FreePort(), seeds, secret: "guess");
        Assert.Equal(2, wrongSecret.WaitForExit(TimeSpan.FromMinutes(1)));
        Assert.Contains("error: the cluster refused this node: its cluster secret does not match", wrongSecret.Text);

        var config = System.IO.Path.Combine(_cluster.Path, "other.hocon");
        File.WriteAllText(config, "akka.cluster.split-brain-resolver.active-strategy = keep-oldest\n");
        var wrongSetting = _cluster.Node(NodeProcess.FreePort(), seeds, secret: "s3cret", config: config);
        Assert.Equal(2, wrongSetting.WaitForExit(TimeSpan.FromMinutes(1)));
        Assert.Contains("its setting akka.cluster.split-brain-resolver.active-strategy is 'keep-oldest' but the cluster uses 'keep-majority'", wrongSetting.Text);
        Assert.Contains("refused node", seed.Text);
    }

    [Fact]
    public async Task A_node_that_cannot_see_the_checkpoint_directory_gets_no_ranks_and_says_why()
    {
        var port = NodeProcess.FreePort();
        var a = _cluster.Node(port, $"127.0.0.1:{port}");
        await a.WaitForLineAsync(line => line.Contains($"node {a.HostPort} joined", StringComparison.Ordinal));
        var blind = _cluster.Node(NodeProcess.FreePort(), a.HostPort, withoutSharedVolume: true);
        await a.WaitForLineAsync(line => line.Contains($"node {blind.HostPort} joined", StringComparison.Ordinal));

        var workDir = System.IO.Path.Combine(_cluster.Shared, "job");
        using var follower = _cluster.Client(
            "submit", "--cluster", a.HostPort, "--job", "mlp", "--work-dir", workDir, "--steps", "60", "--checkpoint-every", "20",
            "--samples", "512", "--threads", "1", "--min-ranks", "1", "--max-ranks", "2", "--wait");

        Assert.Equal(0, follower.WaitForExit(TimeSpan.FromMinutes(2)));
        Assert.Contains("1 rank(s) on " + a.HostPort, follower.Text);
        Assert.Contains($"cannot take ranks: cannot see checkpoint directory {workDir}/checkpoints (mount the shared volume at the same path on every node)", a.Text);
        await blind.WaitForLineAsync(line => line.Contains("warning: job mlp will not place ranks on this node: cannot see checkpoint directory", StringComparison.Ordinal));
    }
}
