using System.Globalization;
using System.Text.RegularExpressions;
using Orchestrator.Tests.Cluster;
using Orchestrator.Tests.Support;

namespace Orchestrator.Tests.Metrics;

/// <summary>A cluster node's /metrics, scraped over HTTP: its view of the members and the jobs it supervises.</summary>
public sealed class NodeMetricsTests : IDisposable
{
    private readonly LocalCluster _cluster = new();

    public void Dispose() => _cluster.Dispose();

    [Fact]
    public async Task A_node_serves_members_by_status_and_the_metrics_of_the_job_it_supervises()
    {
        var metricsPort = NodeProcess.FreePort();
        var port = NodeProcess.FreePort();
        var a = _cluster.Node(port, $"127.0.0.1:{port}", more: ["--metrics-port", metricsPort.ToString(CultureInfo.InvariantCulture)]);
        await a.WaitForLineAsync(line => line.Contains($"node {a.HostPort} joined", StringComparison.Ordinal));
        var b = _cluster.Node(NodeProcess.FreePort(), a.HostPort);
        await a.WaitForLineAsync(line => line.Contains($"node {b.HostPort} joined", StringComparison.Ordinal));

        using var submit = _cluster.Client(
            "submit", "--cluster", a.HostPort, "--job", "mlp", "--work-dir", Path.Combine(_cluster.Shared, "job"), "--steps", "1000000",
            "--checkpoint-every", "20", "--samples", "512", "--threads", "1", "--ranks", "2");
        Assert.Equal(0, submit.WaitForExit(TimeSpan.FromMinutes(1)));
        await a.WaitForLineAsync(line => line.Contains("checkpoint iter_40", StringComparison.Ordinal));
        using var http = new HttpClient();
        var text = await http.GetStringAsync($"http://127.0.0.1:{metricsPort}/metrics");

        Assert.Equal(2, Value(text, "orchestrator_cluster_members", "status=\"up\""));
        Assert.Equal(0, Value(text, "orchestrator_cluster_members", "status=\"unreachable\""));
        Assert.Equal(2, Value(text, "orchestrator_ranks_alive", "job=\"mlp\""));
        Assert.True(Value(text, "orchestrator_step", "job=\"mlp\"") >= 40);
        Assert.True(Value(text, "orchestrator_last_committed_step", "job=\"mlp\"") >= 40);
        Assert.True(Value(text, "orchestrator_steps_per_second", "job=\"mlp\"") > 0);
        Assert.InRange(Value(text, "orchestrator_gradient_sync_seconds", "job=\"mlp\""), 1e-7, 10);
    }

    private static double Value(string metrics, string name, string label)
    {
        var match = Regex.Match(metrics, $"^{name}\\{{{label}\\}} (\\S+)$", RegexOptions.Multiline);
        Assert.True(match.Success, $"{name}{{{label}}} not in /metrics:\n{metrics}");
        return double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
    }
}
