using Akka.Configuration;
using Orchestrator.Actors.Cluster;

namespace Orchestrator.Actors.Tests.Cluster;

public sealed class ClusterCredentialsTests
{
    private const string Strategy = "akka.cluster.split-brain-resolver.active-strategy";
    private const string FrameSize = "akka.remote.dot-netty.tcp.maximum-frame-size";

    private static readonly string[] Cpu = ["cpu"];

    [Fact]
    public void A_node_with_the_same_secret_and_settings_is_accepted()
    {
        var cluster = Credentials("s3cret");
        var challenge = new Challenge(ClusterCredentials.NewNonce());

        Assert.Null(cluster.Problem(challenge.Nonce, Credentials("s3cret").Answer(challenge, Cpu)));
    }

    [Fact]
    public void A_node_with_another_secret_is_refused_and_told_it_is_the_secret()
    {
        var challenge = new Challenge(ClusterCredentials.NewNonce());

        var problem = Credentials("s3cret").Problem(challenge.Nonce, Credentials("guess").Answer(challenge, Cpu));

        Assert.Equal("its cluster secret does not match (give every node the same --secret-file or ORCHESTRATOR_SECRET)", problem);
    }

    [Fact]
    public void An_answer_to_an_old_challenge_does_not_prove_the_secret_again()
    {
        var node = Credentials("s3cret");
        var old = node.Answer(new Challenge(ClusterCredentials.NewNonce()), Cpu);

        Assert.Contains("cluster secret does not match", Credentials("s3cret").Problem(ClusterCredentials.NewNonce(), old));
    }

    [Fact]
    public void The_proof_does_not_carry_the_secret()
    {
        var proof = Credentials("s3cret-that-must-stay-home").Prove("nonce");

        Assert.DoesNotContain("s3cret", proof, StringComparison.Ordinal);
        Assert.Equal(64, proof.Length); // hex of HMAC-SHA256
    }

    [Fact]
    public void A_differing_must_match_setting_is_named_by_key_with_both_values()
    {
        var challenge = new Challenge(ClusterCredentials.NewNonce());
        var other = Credentials("s3cret", (Strategy, "keep-oldest"));

        var problem = Credentials("s3cret").Problem(challenge.Nonce, other.Answer(challenge, Cpu));

        Assert.Equal($"its setting {Strategy} is 'keep-oldest' but the cluster uses 'keep-majority' (use the same cluster config on every node)", problem);
    }

    [Fact]
    public void A_must_match_setting_the_node_does_not_send_is_named_as_missing()
    {
        var challenge = new Challenge(ClusterCredentials.NewNonce());
        var older = new ClusterCredentials("s3cret", Credentials("s3cret").Settings.Where(s => s.Key != FrameSize).ToList());

        var problem = Credentials("s3cret").Problem(challenge.Nonce, older.Answer(challenge, Cpu));

        Assert.Equal($"its setting {FrameSize} is '(missing)' but the cluster uses '4MiB' (use the same cluster config on every node)", problem);
    }

    [Fact]
    public void A_node_of_another_wire_protocol_is_refused_with_both_versions_named()
    {
        var challenge = new Challenge(ClusterCredentials.NewNonce());
        var cluster = Credentials("s3cret");
        var protocol3 = new ClusterCredentials("s3cret", cluster.Settings.Select(s => s.Key == WireProtocol.SettingKey ? new KeyValuePair<string, string>(s.Key, "3") : s).ToList());

        var problem = cluster.Problem(challenge.Nonce, protocol3.Answer(challenge, Cpu));

        Assert.Equal($"it speaks wire protocol 3 but the cluster speaks {WireProtocol.Version}: its orchestrator is another version (run the same orchestrator version on every node and client)", problem);
    }

    [Fact]
    public void A_config_cannot_claim_another_wire_protocol()
    {
        var claims3 = ConfigurationFactory.ParseString($"orchestrator.cluster.protocol = 3\norchestrator.cluster.must-match = [\"{WireProtocol.SettingKey}\", \"{Strategy}\"]")
            .WithFallback(ClusterSettings.Defaults);

        var credentials = ClusterCredentials.From(claims3);

        Assert.Equal([Strategy, WireProtocol.SettingKey], credentials.Settings.Select(s => s.Key));
        Assert.Equal(WireProtocol.Version.ToString(System.Globalization.CultureInfo.InvariantCulture), credentials.Settings[^1].Value);
    }

    [Fact]
    public void A_node_that_offers_no_devices_is_refused()
    {
        var challenge = new Challenge(ClusterCredentials.NewNonce());

        Assert.Equal("it offers no devices (--devices cpu,...)", Credentials("").Problem(challenge.Nonce, Credentials("").Answer(challenge, [])));
    }

    [Fact]
    public void Credentials_from_the_cluster_config_carry_every_must_match_setting_and_the_secret()
    {
        var config = ConfigurationFactory.ParseString("orchestrator.cluster.secret = \"from-config\"").WithFallback(ClusterSettings.Defaults);

        var credentials = ClusterCredentials.From(config);

        Assert.Equal([.. config.GetStringList("orchestrator.cluster.must-match"), WireProtocol.SettingKey], credentials.Settings.Select(s => s.Key));
        Assert.Contains(new KeyValuePair<string, string>(Strategy, "keep-majority"), credentials.Settings);
        Assert.Contains(new KeyValuePair<string, string>("akka.remote.dot-netty.tcp.enable-ssl", "false"), credentials.Settings);
        Assert.Equal(Credentials("from-config").Prove("n"), credentials.Prove("n"));
    }

    [Fact]
    public void A_must_match_list_that_names_a_setting_twice_still_admits_a_matching_node()
    {
        var listedTwice = ConfigurationFactory.ParseString($"orchestrator.cluster.must-match = [\"{Strategy}\", \"{Strategy}\"]\norchestrator.cluster.secret = s3cret")
            .WithFallback(ClusterSettings.Defaults);
        var cluster = ClusterCredentials.From(listedTwice);
        var challenge = new Challenge(ClusterCredentials.NewNonce());
        var doubled = cluster.Answer(challenge, Cpu);
        var repeatedKeys = doubled with { SettingKeys = [.. doubled.SettingKeys, Strategy], SettingValues = [.. doubled.SettingValues, "keep-majority"] };

        Assert.Single(cluster.Settings, s => s.Key == Strategy);
        Assert.Null(cluster.Problem(challenge.Nonce, repeatedKeys));
    }

    private static ClusterCredentials Credentials(string secret, params (string Key, string Value)[] overrides)
    {
        var config = ClusterSettings.Defaults;
        foreach (var (key, value) in overrides)
        {
            config = ConfigurationFactory.ParseString($"{key} = {value}").WithFallback(config);
        }
        return ClusterCredentials.From(ConfigurationFactory.ParseString($"orchestrator.cluster.secret = \"{secret}\"").WithFallback(config));
    }
}
