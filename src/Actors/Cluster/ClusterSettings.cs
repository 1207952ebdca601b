using Akka.Configuration;
using Orchestrator.Actors.Configuration;
using Orchestrator.Actors.Persistence;

namespace Orchestrator.Actors.Cluster;

/// <summary>
/// A node's configuration, layered: flags and environment variables over a <c>--config</c> file over the
/// embedded cluster-config/cluster.hocon over the single-process defaults.
/// </summary>
/// <param name="Join">Seeds or Cluster Bootstrap (<see cref="ClusterJoin"/>).</param>
/// <param name="ManagementPort">Where Akka.Management serves health and bootstrap; null serves nothing (a seeds node not given one).</param>
public sealed record ClusterSettings(string Hostname, int Port, ClusterJoin Join, string[] Devices, string? ConfigFile, string? Secret, JournalSettings Journal, int? ManagementPort = null)
{
    public const string SystemName = "orchestrator";

    public static Config Defaults { get; } = LoadEmbedded();

    /// <summary>How the node found its cluster, in words (<see cref="ClusterJoin.Describe"/>), which its agent tells the coordinator.</summary>
    public const string JoinedByKey = "orchestrator.node.joined-by";

    /// <summary>
    /// The address of the node at <paramref name="hostPort"/> as seen through <paramref name="remoting"/>: with
    /// TLS (enable-ssl) DotNetty loads only the akka.ssl.tcp transport and cannot even look up an akka.tcp
    /// address, so seeds and clients must name the scheme the config actually runs.
    /// </summary>
    public static string AddressOf(string hostPort, Config remoting) => $"{Scheme(remoting)}://{SystemName}@{hostPort}";

    private static string Scheme(Config remoting) => remoting.GetBoolean("akka.remote.dot-netty.tcp.enable-ssl", false) ? "akka.ssl.tcp" : "akka.tcp";

    public Config ToConfig()
    {
        var file = ConfigFile is null ? Config.Empty : HoconFile.Read(ConfigFile);
        var beneathFlags = file.WithFallback(Journal.ToConfig()).WithFallback(Defaults).WithFallback(OrchestratorSystem.Reference);
        var devices = string.Join(", ", Devices.Select(Quote));
        var flags = ConfigurationFactory.ParseString($$"""
            akka.remote.dot-netty.tcp.hostname = {{Quote(Hostname)}}
            akka.remote.dot-netty.tcp.port = {{Port}}
            orchestrator.node.devices = [{{devices}}]
            {{JoinedByKey}} = {{Quote(Join.Describe())}}
            """).WithFallback(Join.ToConfig(hostPort => AddressOf(hostPort, beneathFlags)));
        if (ManagementPort is { } managementPort)
        {
            flags = flags.WithFallback(ConfigurationFactory.ParseString($"""
                akka.management.http.hostname = {Quote(Hostname)}
                akka.management.http.port = {managementPort}
                """));
        }
        var secret = Secret is null ? Config.Empty : ConfigurationFactory.ParseString($"orchestrator.cluster.secret = {Quote(Secret)}");
        return secret.WithFallback(flags).WithFallback(beneathFlags);
    }

    /// <summary>
    /// What a command-line client (submit, status, stop, drain) runs: remoting only, never a member. A client
    /// config file (TLS settings, for one) is layered under the address, which is always the client's own.
    /// </summary>
    public static Config ClientConfig(string hostname, string? configFile) => ConfigurationFactory.ParseString($$"""
        akka.actor.provider = remote
        # A client reports its own errors in one line; a node it talked to going away is not one of them.
        akka.loglevel = OFF
        akka.stdout-loglevel = OFF
        akka.remote.dot-netty.tcp.hostname = {{Quote(hostname)}}
        akka.remote.dot-netty.tcp.port = 0
        """).WithFallback(configFile is null ? Config.Empty : HoconFile.Read(configFile))
        .WithFallback(Defaults).WithFallback(OrchestratorSystem.Reference);

    private static Config LoadEmbedded()
    {
        using var stream = typeof(ClusterSettings).Assembly.GetManifestResourceStream("Orchestrator.Actors.cluster.hocon")
            ?? throw new InvalidOperationException("cluster.hocon is not embedded in Orchestrator.Actors");
        using var reader = new StreamReader(stream);
        return ConfigurationFactory.ParseString(reader.ReadToEnd());
    }

    internal static string Quote(string value) => "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}
