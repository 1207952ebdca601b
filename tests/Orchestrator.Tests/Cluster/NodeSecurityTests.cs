using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Orchestrator.Tests.Support;

namespace Orchestrator.Tests.Cluster;

/// <summary>
/// A cluster is never open by accident: a node without a secret, with a config file that does not parse, or
/// with an address it cannot bind is refused in one line; the status of a cluster with a secret is for
/// holders of the secret; a node run --insecure says so, and so does the status of its cluster.
/// </summary>
public sealed class NodeSecurityTests : IDisposable
{
    private readonly LocalCluster _cluster = new();

    public void Dispose() => _cluster.Dispose();

    [Fact]
    public void A_node_without_a_secret_with_a_config_that_does_not_parse_or_with_an_address_it_cannot_bind_is_refused_in_one_line_and_so_is_a_client_config()
    {
        var port = NodeProcess.FreePort();

        AssertRefused(Node(port, secret: ""),
            "this node has no cluster secret: give --secret-file FILE, ORCHESTRATOR_SECRET or orchestrator.cluster.secret in --config " +
            "(the same on every node and client), or --insecure for a cluster nobody else can reach");

        var tls = Config("tls.hocon", "akka.remote.dot-netty.tcp.enable-ssl = true\noops = [\n");
        AssertRefused(Node(port, _cluster.Secret, "--config", tls), $"config file {tls} is not valid HOCON at line 2: '[' is never closed");
        AssertRefused(CliProcess.Run(["status", "--cluster", $"127.0.0.1:{port}"], new Dictionary<string, string> { ["ORCHESTRATOR_CLIENT_CONFIG"] = tls }),
            $"ORCHESTRATOR_CLIENT_CONFIG: config file {tls} is not valid HOCON at line 2: '[' is never closed");
        var include = Config("include.hocon", "include \"tls.hocon\"\n");
        AssertRefused(Node(port, _cluster.Secret, "--config", include), $"config file {include} is not valid HOCON at line 1: include is not supported (put the settings in this file itself)");
        var home = Config("home.hocon", "akka.remote.dot-netty.tcp.ssl.certificate.path = ${HOME}/node.pfx\n");
        AssertRefused(Node(port, _cluster.Secret, "--config", home), $"config file {home} is not valid HOCON at line 1: the substitution ${{HOME}} is not supported in this file (write the value itself)");

        AssertRefused(Node(port, _cluster.Secret, "--hostname", "256.1.1.1"), "--hostname 256.1.1.1 is neither an address nor a name that resolves (", prefixOnly: true);
        using (var taken = new TcpListener(IPAddress.Loopback, port))
        {
            taken.Start();
            AssertRefused(Node(port, _cluster.Secret), $"port {port} on 127.0.0.1 is already in use (another node, or another program); stop it or give this node another --port");
        }
        var privileged = PrivilegedPort();
        AssertRefused(UnprivilegedNode(privileged), $"port {privileged} needs privileges this process lacks (ports below 1024 do); give --port 1024 or above, e.g. the default 4053");
    }

    [Fact]
    public async Task The_status_of_a_cluster_with_a_secret_is_refused_without_it_and_SIGTERM_makes_the_node_leave()
    {
        var port = NodeProcess.FreePort();
        var node = _cluster.Node(port, $"127.0.0.1:{port}");
        await node.WaitForLineAsync(line => line.Contains($"node {node.HostPort} joined", StringComparison.Ordinal));

        AssertRefused(Client("", "status", "--cluster", node.HostPort),
            $"the cluster at {node.HostPort} has a secret and this client none: give --secret-file FILE or set ORCHESTRATOR_SECRET (the nodes' secret)");
        AssertRefused(Client("", "status", "--cluster", node.HostPort, "--watch"),
            $"the cluster at {node.HostPort} has a secret and this client none: give --secret-file FILE or set ORCHESTRATOR_SECRET (the nodes' secret)");
        AssertRefused(Client("guess", "status", "--cluster", node.HostPort),
            "the client's cluster secret does not match (give status the nodes' --secret-file or ORCHESTRATOR_SECRET)");
        var secretFile = Config("secret", _cluster.Secret + "\n");
        var status = Client("", "status", "--cluster", node.HostPort, "--secret-file", secretFile);
        Assert.True(status.ExitCode == 0, status.ToString());
        Assert.Contains($"  {node.HostPort}", status.Output);
        Assert.DoesNotContain("insecure", status.Output + status.Error);

        node.Terminate();

        Assert.Equal(0, node.WaitForExit(TimeSpan.FromMinutes(1)));
        Assert.Contains("SIGTERM: leaving the cluster: the ranks here stop and their jobs go on from their latest checkpoint on the other nodes", node.Text);
        Assert.DoesNotContain("saving a checkpoint", node.Text);
    }

    [Fact]
    public async Task A_node_run_insecure_warns_and_the_status_of_its_cluster_says_it_is_insecure()
    {
        var port = NodeProcess.FreePort();
        var node = _cluster.InsecureNode(port, $"127.0.0.1:{port}");
        await node.WaitForLineAsync(line => line.Contains($"node {node.HostPort} joined", StringComparison.Ordinal));

        var status = Client("", "status", "--cluster", node.HostPort);

        const string Insecure = "insecure cluster: no secret, so anyone who reaches a node can join, submit, stop and read its jobs";
        Assert.Contains(node.Text.Split('\n'), line => line.StartsWith("warning: " + Insecure, StringComparison.Ordinal));
        Assert.True(status.ExitCode == 0, status.ToString());
        Assert.StartsWith(Insecure, status.Output, StringComparison.Ordinal);
    }

    private CliResult Node(int port, string secret, params string[] more) => CliProcess.Run(
        ["node", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--seeds", $"127.0.0.1:{port}", "--journal", $"sqlite:{_cluster.JournalFile}", .. more],
        new Dictionary<string, string> { ["ORCHESTRATOR_SECRET"] = secret });

    // The node as a user without privileges: as nobody (setpriv) where the tests run as root, who may bind any port.
    private CliResult UnprivilegedNode(int port)
    {
        var start = new ProcessStartInfo(Environment.UserName == "root" ? "setpriv" : "dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        if (Environment.UserName == "root")
        {
            foreach (var arg in new[] { "--reuid=65534", "--regid=65534", "--clear-groups", "dotnet" })
            {
                start.ArgumentList.Add(arg);
            }
        }
        var text = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        foreach (var arg in new[] { OrchestratorProgram.Dll, "node", "--port", text, "--seeds", $"127.0.0.1:{text}", "--journal", "sqlite:/nonexistent/journal.db" })
        {
            start.ArgumentList.Add(arg);
        }
        start.Environment["ORCHESTRATOR_SECRET"] = _cluster.Secret;
        start.Environment["HOME"] = System.IO.Path.GetTempPath();
        using var running = new RunningCli(Process.Start(start)!);
        return running.WaitForExit();
    }

    // The highest port only root may bind here (below 1024 on a default Linux).
    private static int PrivilegedPort()
    {
        var first = int.Parse(File.ReadAllText("/proc/sys/net/ipv4/ip_unprivileged_port_start").Trim(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(first > 1, $"this machine lets anyone bind any port (net.ipv4.ip_unprivileged_port_start = {first}): no privileged port to try");
        return first - 1;
    }

    // An empty ORCHESTRATOR_SECRET means none, whatever the environment running the tests holds.
    private static CliResult Client(string secret, params string[] args) => CliProcess.Run(args, new Dictionary<string, string> { ["ORCHESTRATOR_SECRET"] = secret });

    private string Config(string name, string text)
    {
        var file = System.IO.Path.Combine(_cluster.Path, name);
        File.WriteAllText(file, text);
        return file;
    }

    private static void AssertRefused(CliResult result, string message, bool prefixOnly = false)
    {
        Assert.True(result.ExitCode == 2, result.ToString());
        var error = result.Error.Trim();
        Assert.DoesNotContain('\n', error);
        if (prefixOnly)
        {
            Assert.StartsWith("error: " + message, error, StringComparison.Ordinal);
        }
        else
        {
            Assert.Equal("error: " + message, error);
        }
    }
}
