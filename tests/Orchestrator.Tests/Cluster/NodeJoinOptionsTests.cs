using System.Net;
using System.Net.Sockets;
using Orchestrator.Actors.Cluster;
using Orchestrator.Cli.Commands;
using Orchestrator.Cli.Commands.Cluster;
using Orchestrator.Tests.Support;

namespace Orchestrator.Tests.Cluster;

/// <summary>
/// How a node is told to find its cluster: seeds or Cluster Bootstrap, never both; a contact point that is no
/// HOST:PORT, a method it does not know or a management port that is taken is refused in one line before
/// anything starts (checked in process: the refusals come before any actor system exists).
/// </summary>
public sealed class NodeJoinOptionsTests
{
    private static string Refusal(params string[] args)
    {
        var e = Assert.Throws<UsageException>(() => NodeCommand.Run(["--port", NodeProcess.FreePort().ToString(), "--journal", "sqlite:/tmp/unused.db", .. args]));
        Assert.DoesNotContain("\n", e.Message);
        return e.Message;
    }

    [Fact]
    public void Seeds_and_discovery_together_a_bad_contact_point_or_method_and_options_of_the_other_method_are_refused()
    {
        Assert.StartsWith("--seeds and --discovery exclude each other", Refusal("--seeds", "127.0.0.1:4053", "--discovery", "config", "--contact-points", "127.0.0.1:8558"));
        Assert.StartsWith("--seeds or --discovery is required", Refusal());
        Assert.Equal("--contact-points entry 'node-a' is not HOST:PORT", Refusal("--discovery", "config", "--contact-points", "node-a,node-b:8558"));
        Assert.StartsWith("--discovery config needs --contact-points HOST:MGMT_PORT", Refusal("--discovery", "config"));
        Assert.StartsWith("--discovery consul is not a method this node knows", Refusal("--discovery", "consul"));
        Assert.Equal("--contact-points needs --discovery config", Refusal("--seeds", "127.0.0.1:4053", "--contact-points", "127.0.0.1:8558"));
        Assert.StartsWith("--contact-points is for --discovery config", Refusal("--discovery", "kubernetes", "--contact-points", "127.0.0.1:8558"));
        Assert.Equal("--pod-label-selector 'orchestrator' is not a label selector like app=orchestrator", Refusal("--discovery", "kubernetes", "--pod-label-selector", "orchestrator"));
        Assert.Equal("--management-port 70000 must be between 1 and 65535", Refusal("--discovery", "config", "--contact-points", "127.0.0.1:8558", "--management-port", "70000"));
    }

    [Fact]
    public void A_taken_management_port_is_refused_naming_the_flag()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;
        Assert.Equal($"port {port} on 127.0.0.1 is already in use (another node, or another program); stop it or give this node another --management-port",
            Refusal("--discovery", "config", "--contact-points", $"127.0.0.1:{port}", "--management-port", port.ToString()));
    }

    [Fact]
    public void Bootstrap_leaves_the_seed_list_empty_and_serves_management_by_default_while_seeds_serve_none_unless_asked()
    {
        var bootstrap = ClusterOptions.NodeSettings(ParsedArguments.Parse("node",
            ["--discovery", "config", "--contact-points", "10.0.0.1:8558,10.0.0.2:8558", "--journal", "sqlite:/tmp/unused.db"],
            new HashSet<string> { "--discovery", "--contact-points", "--journal" }, new HashSet<string>()));
        Assert.Equal(ClusterOptions.DefaultManagementPort, bootstrap.ManagementPort);
        var config = bootstrap.ToConfig();
        Assert.Empty(config.GetStringList("akka.cluster.seed-nodes"));
        Assert.Equal(ContactPointDiscovery.MethodName, config.GetString("akka.discovery.method"));
        Assert.Equal(["10.0.0.1:8558", "10.0.0.2:8558"], config.GetStringList($"akka.discovery.{ContactPointDiscovery.MethodName}.contact-points"));
        Assert.Equal(8558, config.GetInt("akka.management.http.port"));
        Assert.Equal("bootstrap from contact points 10.0.0.1:8558,10.0.0.2:8558", config.GetString(ClusterSettings.JoinedByKey));

        var seeds = ClusterOptions.NodeSettings(ParsedArguments.Parse("node", ["--seeds", "10.0.0.1:4053", "--journal", "sqlite:/tmp/unused.db"],
            new HashSet<string> { "--seeds", "--journal" }, new HashSet<string>()));
        Assert.Null(seeds.ManagementPort);
        Assert.Equal(JoinMethod.Seeds, seeds.Join.Method);
        Assert.Equal(["akka.tcp://orchestrator@10.0.0.1:4053"], seeds.ToConfig().GetStringList("akka.cluster.seed-nodes"));
        Assert.Equal("seeds 10.0.0.1:4053", seeds.ToConfig().GetString(ClusterSettings.JoinedByKey));
    }
}
