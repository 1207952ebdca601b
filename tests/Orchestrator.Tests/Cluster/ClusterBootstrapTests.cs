using System.Net.Http;
using Orchestrator.Tests.Support;

namespace Orchestrator.Tests.Cluster;

/// <summary>
/// Nodes with no seed list that find each other through Cluster Bootstrap (config discovery: the management
/// endpoints of all three): they form one cluster, and the node that formed it, killed and started again with
/// the same command, joins that cluster rather than forming a second one; the management port's health
/// answers as documented while a node joins, is Up and leaves.
/// </summary>
public sealed class ClusterBootstrapTests : IDisposable
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(5) };
    private readonly LocalCluster _cluster = new();

    public void Dispose() => _cluster.Dispose();

    // Cluster ports and management ports; the lowest management port first: that node forms the cluster
    // (Cluster Bootstrap's lowest-address rule) and so hosts the coordinator.
    private static (int Port, int Management)[] Ports(int count)
    {
        var management = Enumerable.Range(0, count).Select(_ => NodeProcess.FreePort()).Order().ToArray();
        return management.Select(m => (NodeProcess.FreePort(), m)).ToArray();
    }

    private static string ContactPoints((int Port, int Management)[] ports) => string.Join(",", ports.Select(p => $"127.0.0.1:{p.Management}"));

    [Fact]
    public async Task The_node_that_formed_the_cluster_killed_and_restarted_joins_it_and_the_job_ends_on_the_uninterrupted_weights()
    {
        var ports = Ports(3);
        var contactPoints = ContactPoints(ports);
        var nodes = ports.Select(p => _cluster.BootstrapNode(p.Port, p.Management, contactPoints)).ToArray();
        var (first, second, third) = (nodes[0], nodes[1], nodes[2]);
        await first.WaitForAllAsync(nodes.Select(n => $"node {n.HostPort} joined"));
        var workDir = System.IO.Path.Combine(_cluster.Shared, "job");
        string[] job = ["--job", "mlp", "--steps", "600", "--checkpoint-every", "40", "--batch-size", "48", "--samples", "960", "--threads", "1"];
        // Exactly three ranks: the job can finish only once the restarted node is back in this cluster.
        using var follower = _cluster.Client(["submit", "--cluster", second.HostPort, "--work-dir", workDir, .. job, "--ranks", "3", "--wait"]);
        await first.WaitForLineAsync(line => line.Contains("checkpoint iter_40", StringComparison.Ordinal));

        first.KillHard();
        var reference = Task.Run(() => CliProcess.Run(["train", "--work-dir", System.IO.Path.Combine(_cluster.Path, "reference"), .. job, "--ranks", "3"]));
        var restarted = _cluster.BootstrapNode(ports[0].Port, ports[0].Management, contactPoints);
        // The coordinator moved to the next oldest node, whichever of the two that is; it admits the node again.
        (string, NodeProcess)[] everyone = [("the first node, killed", first), ("the second node", second), ("the third node", third), ("the first node, restarted", restarted), ("the submit --wait", follower)];
        await ProcessOutputs.WithOutputs(
            await Task.WhenAny(new[] { second, third }.Select(n => n.WaitForLineAsync(line => line.Contains($"node {restarted.HostPort} joined", StringComparison.Ordinal)))),
            everyone);

        var exit = -1;
        await ProcessOutputs.WithOutputs(Task.Run(() => exit = follower.WaitForExit(TimeSpan.FromMinutes(3))), everyone);
        Assert.True(exit == 0, ProcessOutputs.Of(everyone));
        Assert.Contains("completed: step 600/600", follower.Text);
        foreach (var via in new[] { restarted, third })
        {
            var status = _cluster.Run("status", "--cluster", via.HostPort);
            Assert.True(status.ExitCode == 0, status.ToString());
            Assert.Contains("nodes (3):", status.Output);
            Assert.Equal(3, status.Output.Split('\n').Count(l => l.Contains(" up ", StringComparison.Ordinal)
                && l.EndsWith($"[bootstrap from contact points {contactPoints}]", StringComparison.Ordinal)));
        }
        Assert.DoesNotContain("joined", restarted.Text); // the coordinator stayed where it moved: one cluster, one coordinator
        var digest = CliProcess.Run(["status", "--work-dir", workDir, "--journal", $"sqlite:{_cluster.JournalFile}"]);
        var uninterrupted = await reference;
        Assert.True(uninterrupted.ExitCode == 0, uninterrupted.ToString());
        Assert.Equal(uninterrupted.WeightsSha256, digest.WeightsSha256);
    }

    [Fact]
    public async Task Health_says_alive_but_not_ready_while_joining_ready_when_Up_and_not_ready_while_leaving()
    {
        var ports = Ports(2);
        var contactPoints = ContactPoints(ports);
        var joining = _cluster.BootstrapNode(ports[0].Port, ports[0].Management, contactPoints);
        await joining.WaitForLineAsync(line => line.Contains($"management http://127.0.0.1:{ports[0].Management}", StringComparison.Ordinal));

        // The other contact point does not answer yet, and a new cluster forms only once every one has.
        var alive = await Get(ports[0].Management, "/health/alive");
        var notReady = await Get(ports[0].Management, "/health/ready");
        Assert.Equal(200, alive.Code);
        Assert.Equal(503, notReady.Code);
        Assert.Contains("\"ready\":false", notReady.Body);

        using var other = _cluster.BootstrapNode(ports[1].Port, ports[1].Management, contactPoints);
        await joining.WaitForLineAsync(line => line.Contains($"node {other.HostPort} joined", StringComparison.Ordinal));
        var ready = await Until(ports[0].Management, "/health/ready", code => code == 200);
        Assert.Contains("\"member\":\"Up\"", ready.Body);

        joining.Terminate();
        var leaving = await Until(ports[0].Management, "/health/ready", code => code != 200);
        Assert.True(leaving.Code == 503, $"{leaving}");
        Assert.Matches("\"member\":\"(Leaving|Exiting)\"", leaving.Body);
        Assert.Equal(0, joining.WaitForExit(TimeSpan.FromMinutes(1)));
        Assert.Equal(200, (await Get(ports[1].Management, "/health/ready")).Code);
    }

    private static async Task<(int Code, string Body)> Get(int port, string path)
    {
        try
        {
            using var response = await Http.GetAsync(new Uri($"http://127.0.0.1:{port}{path}"));
            return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
        }
        catch (HttpRequestException e)
        {
            return (0, e.Message);
        }
    }

    // Asks again every 50 ms until the answer's code matches: a probe's view, as Kubernetes would poll.
    private static async Task<(int Code, string Body)> Until(int port, string path, Func<int, bool> match)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (true)
        {
            var answer = await Get(port, path);
            if (match(answer.Code))
            {
                return answer;
            }
            await Task.Delay(50, deadline.Token);
        }
    }
}
