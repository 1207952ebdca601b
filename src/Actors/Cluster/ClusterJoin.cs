using Akka.Configuration;

namespace Orchestrator.Actors.Cluster;

/// <summary>How a node joined, as <c>status --cluster</c> shows it.</summary>
public enum JoinMethod
{
    Seeds,
    ContactPoints,
    KubernetesPods,
}

/// <summary>
/// How a node finds its cluster: a static seed list (a seed that lists itself first starts a new cluster), or
/// Cluster Bootstrap (Akka.Management), which asks the other nodes' management endpoints whether a cluster
/// exists and joins it, forming a new one only when none does, from the node with the lowest address.
/// </summary>
// Classes, not records: a node's own settings, never sent (the wire contract lists every record here).
public abstract class ClusterJoin
{
    /// <summary>The name every node looks itself and the others up by (the discovery's service name).</summary>
    public const string ServiceName = "orchestrator";

    private ClusterJoin()
    {
    }

    public abstract JoinMethod Method { get; }

    /// <summary>What the node's first line and <c>status --cluster</c> say: the method and what it was given.</summary>
    public abstract string Describe();

    /// <summary>Whether Cluster Bootstrap forms or joins the cluster (rather than the seed list).</summary>
    public bool Bootstraps => Method != JoinMethod.Seeds;

    internal abstract Config ToConfig(Func<string, string> addressOf);

    /// <summary>Static seeds, host:port of their cluster ports; akka.cluster.seed-nodes.</summary>
    public sealed class Seeds(string[] hostPorts) : ClusterJoin
    {
        public string[] HostPorts { get; } = hostPorts;

        public override JoinMethod Method => JoinMethod.Seeds;

        public override string Describe() => $"seeds {string.Join(",", HostPorts)}";

        internal override Config ToConfig(Func<string, string> addressOf) =>
            ConfigurationFactory.ParseString($"akka.cluster.seed-nodes = [{string.Join(", ", HostPorts.Select(s => ClusterSettings.Quote(addressOf(s))))}]");
    }

    /// <summary>
    /// Bootstrap from a fixed list of management endpoints (host:management-port). A name that resolves to
    /// several addresses (a Compose service scaled with --scale) counts as one contact point per address,
    /// looked up again at every discovery round (<see cref="ContactPointDiscovery"/>).
    /// </summary>
    public sealed class ContactPoints(string[] hostPorts) : ClusterJoin
    {
        public string[] HostPorts { get; } = hostPorts;

        public override JoinMethod Method => JoinMethod.ContactPoints;

        public override string Describe() => $"bootstrap from contact points {string.Join(",", HostPorts)}";

        // One name given (a scaled Compose service) may stand for a single node; two or more names mean at
        // least two nodes must answer before anyone forms a new cluster.
        internal override Config ToConfig(Func<string, string> addressOf) => ConfigurationFactory.ParseString($$"""
            akka.discovery.method = {{ContactPointDiscovery.MethodName}}
            akka.discovery.{{ContactPointDiscovery.MethodName}}.contact-points = [{{string.Join(", ", HostPorts.Select(ClusterSettings.Quote))}}]
            akka.management.cluster.bootstrap.contact-point-discovery.required-contact-point-nr = {{Math.Min(2, HostPorts.Length)}}
            """);
    }

    /// <summary>Bootstrap from the pods the Kubernetes API lists under a label selector, in the pod's own namespace.</summary>
    public sealed class KubernetesPods(string labelSelector) : ClusterJoin
    {
        public string LabelSelector { get; } = labelSelector;

        public override JoinMethod Method => JoinMethod.KubernetesPods;

        public override string Describe() => $"bootstrap from Kubernetes pods {LabelSelector}";

        internal override Config ToConfig(Func<string, string> addressOf) => ConfigurationFactory.ParseString($$"""
            akka.discovery.method = kubernetes-api
            akka.discovery.kubernetes-api.pod-label-selector = {{ClusterSettings.Quote(LabelSelector)}}
            # The pods' container port named "management" is where their management endpoints are.
            akka.management.cluster.bootstrap.contact-point-discovery.port-name = management
            """);
    }
}
