using Akka.Configuration;
using Orchestrator.Actors.Cluster;
using Orchestrator.Actors.Persistence;

namespace Orchestrator.Actors.Tests.Cluster;

/// <summary>A node's config: secret over flags over the --config file over the journal over cluster.hocon over the reference.</summary>
public sealed class ClusterSettingsTests : IDisposable
{
    private const string Tls = """
        akka.remote.dot-netty.tcp {
          enable-ssl = true
          ssl {
            suppress-validation = true
            certificate { path = "/secrets/node.pfx", password = "pw", use-thumbprint-over-file = false }
          }
        }
        """;

    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Flags_win_over_the_config_file()
    {
        var config = Node(file: """
            akka.remote.dot-netty.tcp { hostname = "file-host", port = 9999 }
            akka.cluster.seed-nodes = ["akka.tcp://orchestrator@file-seed:1"]
            orchestrator.node.devices = ["cuda:7"]
            """).ToConfig();

        Assert.Equal("10.0.0.5", config.GetString("akka.remote.dot-netty.tcp.hostname"));
        Assert.Equal(4100, config.GetInt("akka.remote.dot-netty.tcp.port"));
        Assert.Equal(["akka.tcp://orchestrator@10.0.0.1:4053", "akka.tcp://orchestrator@10.0.0.2:4053"], config.GetStringList("akka.cluster.seed-nodes"));
        Assert.Equal(["cpu", "cuda:0"], config.GetStringList("orchestrator.node.devices"));
    }

    [Fact]
    public void The_secret_wins_over_the_config_file_which_wins_over_the_empty_default()
    {
        const string file = "orchestrator.cluster.secret = \"from-file\"";

        Assert.Equal("from-flag", Node(file, secret: "from-flag").ToConfig().GetString("orchestrator.cluster.secret"));
        Assert.Equal("from-file", Node(file).ToConfig().GetString("orchestrator.cluster.secret"));
        Assert.Equal("", Node().ToConfig().GetString("orchestrator.cluster.secret"));
    }

    [Fact]
    public void The_config_file_wins_over_the_journal_flag()
    {
        const string key = "akka.persistence.journal.sql.connection-string";

        var fromFile = Node("akka.persistence.journal.sql.connection-string = \"Data Source=/shared/journal.db\"").ToConfig();
        var fromFlag = Node().ToConfig();

        Assert.Equal("Data Source=/shared/journal.db", fromFile.GetString(key));
        Assert.Equal($"Data Source={_temp.Sub("journal.db")}", fromFlag.GetString(key));
        Assert.Equal("akka.persistence.journal.sql", fromFlag.GetString("akka.persistence.journal.plugin"));
        Assert.Equal(JournalSettings.SqliteProvider, fromFlag.GetString("akka.persistence.snapshot-store.sql.provider-name"));
    }

    [Fact]
    public void The_config_file_wins_over_the_embedded_cluster_hocon_which_wins_over_the_reference()
    {
        const string strategy = "akka.cluster.split-brain-resolver.active-strategy";

        Assert.Equal("keep-oldest", Node($"{strategy} = keep-oldest").ToConfig().GetString(strategy));
        var plain = Node().ToConfig();
        Assert.Equal("keep-majority", plain.GetString(strategy));
        Assert.Equal("cluster", plain.GetString("akka.actor.provider"));
        Assert.Equal("ERROR", plain.GetString("akka.loglevel")); // the reference (single process) says WARNING
        Assert.True(plain.HasPath("akka.actor.serialize-messages")); // set only in the reference
    }

    [Fact]
    public void A_client_keeps_its_own_address_and_a_free_port_and_takes_TLS_from_the_file()
    {
        var file = Write($$"""
            {{Tls}}
            akka.remote.dot-netty.tcp { hostname = "10.9.9.9", port = 4053 }
            akka.actor.provider = cluster
            akka.loglevel = DEBUG
            """);

        var config = ClusterSettings.ClientConfig("127.0.0.1", file);

        Assert.Equal("127.0.0.1", config.GetString("akka.remote.dot-netty.tcp.hostname"));
        Assert.Equal(0, config.GetInt("akka.remote.dot-netty.tcp.port"));
        Assert.Equal("remote", config.GetString("akka.actor.provider"));
        Assert.Equal("OFF", config.GetString("akka.loglevel"));
        Assert.True(config.GetBoolean("akka.remote.dot-netty.tcp.enable-ssl"));
        Assert.True(config.GetBoolean("akka.remote.dot-netty.tcp.ssl.suppress-validation"));
        Assert.Equal("/secrets/node.pfx", config.GetString("akka.remote.dot-netty.tcp.ssl.certificate.path"));
        Assert.Equal("pw", config.GetString("akka.remote.dot-netty.tcp.ssl.certificate.password"));
    }

    [Fact]
    public void A_client_without_a_file_speaks_plain_TCP_with_the_nodes_frame_size()
    {
        var config = ClusterSettings.ClientConfig("10.0.0.9", configFile: null);

        Assert.False(config.GetBoolean("akka.remote.dot-netty.tcp.enable-ssl"));
        Assert.Equal(0, config.GetInt("akka.remote.dot-netty.tcp.port"));
        Assert.Equal(ClusterSettings.Defaults.GetString("akka.remote.dot-netty.tcp.maximum-frame-size"), config.GetString("akka.remote.dot-netty.tcp.maximum-frame-size"));
    }

    [Fact]
    public void With_TLS_seeds_are_addressed_as_akka_ssl_tcp_the_only_scheme_its_transport_loads()
    {
        var tls = Node(Tls).ToConfig();
        var plain = Node().ToConfig();

        Assert.Equal(["akka.ssl.tcp://orchestrator@10.0.0.1:4053", "akka.ssl.tcp://orchestrator@10.0.0.2:4053"], tls.GetStringList("akka.cluster.seed-nodes"));
        Assert.Equal(["akka.tcp://orchestrator@10.0.0.1:4053", "akka.tcp://orchestrator@10.0.0.2:4053"], plain.GetStringList("akka.cluster.seed-nodes"));
    }

    [Fact]
    public void A_client_addresses_the_cluster_with_the_scheme_of_its_own_config()
    {
        Assert.Equal("akka.ssl.tcp://orchestrator@10.0.0.1:4053", ClusterSettings.AddressOf("10.0.0.1:4053", ClusterSettings.ClientConfig("127.0.0.1", Write(Tls))));
        Assert.Equal("akka.tcp://orchestrator@10.0.0.1:4053", ClusterSettings.AddressOf("10.0.0.1:4053", ClusterSettings.ClientConfig("127.0.0.1", null)));
    }

    private ClusterSettings Node(string? file = null, string? secret = null) => new(
        Hostname: "10.0.0.5",
        Port: 4100,
        Join: new ClusterJoin.Seeds(["10.0.0.1:4053", "10.0.0.2:4053"]),
        Devices: ["cpu", "cuda:0"],
        ConfigFile: file is null ? null : Write(file),
        Secret: secret,
        Journal: JournalSettings.Parse($"sqlite:{_temp.Sub("journal.db")}", "."));

    private string Write(string text)
    {
        var path = _temp.Sub($"{Guid.NewGuid():N}.hocon");
        File.WriteAllText(path, text);
        return path;
    }
}
