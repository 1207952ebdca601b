using Orchestrator.Tests.Support;

namespace Orchestrator.Tests.Cluster;

/// <summary>Akka.Remote over TLS: a client with the nodes' TLS config runs a job (its gradients on a TLS gradient link); without TLS, or without trust, nothing gets in.</summary>
public sealed class TlsClusterTests(TlsCluster tls) : IClassFixture<TlsCluster>
{
    [Fact]
    public void A_job_submitted_with_the_TLS_client_config_completes_on_two_TLS_nodes()
    {
        var workDir = System.IO.Path.Combine(tls.Local.Shared, "tls-job");

        var result = CliProcess.Run(
            ["submit", "--cluster", tls.Seed.HostPort, "--job", "mlp", "--work-dir", workDir, "--steps", "100", "--ranks", "2", "--threads", "1", "--samples", "512", "--wait"],
            tls.ClientEnvironment);

        Assert.True(result.ExitCode == 0, result.ToString());
        var completed = result.Output.Split('\n').Single(line => line.Contains("completed: step 100/100", StringComparison.Ordinal));
        Assert.Contains("2 rank(s) on ", completed);
        Assert.Contains(tls.Seed.HostPort, completed);
        Assert.Contains(tls.Worker.HostPort, completed);
        // The remote rank's gradients took the TLS gradient link, not the slower Akka.Remote fallback.
        Assert.DoesNotContain("gradients go through Akka.Remote", tls.Seed.Text + tls.Worker.Text);
        Assert.DoesNotContain("gradient link to the supervisor ended", tls.Seed.Text + tls.Worker.Text);
    }

    [Fact]
    public async Task Without_TLS_a_client_gets_no_answer_and_a_node_never_joins_and_is_warned()
    {
        var plainNode = tls.Local.Node(NodeProcess.FreePort(), tls.Seed.HostPort);
        var warned = plainNode.WaitForLineAsync(line => line.StartsWith("warning: not in the cluster after 20 s", StringComparison.Ordinal), TimeSpan.FromMinutes(1));

        // An empty ORCHESTRATOR_CLIENT_CONFIG means none, whatever the environment running the tests holds.
        var status = CliProcess.Run(["status", "--cluster", tls.Seed.HostPort], new Dictionary<string, string> { ["ORCHESTRATOR_CLIENT_CONFIG"] = "" });

        Assert.Equal(1, status.ExitCode);
        Assert.Equal(
            $"error: no answer from the cluster at {tls.Seed.HostPort} within 15 s (is a node running there, and has the cluster formed?)",
            status.Error.Trim());
        await warned;
        Assert.DoesNotContain($"node {plainNode.HostPort} joined", tls.Seed.Text);
    }

    [Fact]
    public void A_node_that_does_not_trust_the_certificate_stops_and_says_why()
    {
        var strict = System.IO.Path.Combine(tls.Local.Path, "strict.conf");
        File.WriteAllText(strict, File.ReadAllText(tls.ConfigFile).Replace("suppress-validation = true", "suppress-validation = false", StringComparison.Ordinal));

        var node = tls.Local.Node(NodeProcess.FreePort(), tls.Seed.HostPort, config: strict);

        Assert.Equal(1, node.WaitForExit(TimeSpan.FromMinutes(1)));
        Assert.Contains("error: the node stopped: TLS handshake failed on outbound connection", node.Text);
    }
}
