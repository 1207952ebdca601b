using Akka.Actor;
using Akka.Cluster.Tools.Singleton;
using Akka.Configuration;
using Akka.Discovery.KubernetesApi;
using Akka.Management.Cluster.Bootstrap;
using Orchestrator.Actors.Cluster;
using Orchestrator.Actors.Metrics;

namespace Orchestrator.Actors.Hosting;

/// <summary>
/// One cluster member, as <c>orchestrator node</c> runs it and as tests start several in one process: remoting,
/// cluster membership, the shared journal and TLS from the node's configuration
/// (<see cref="ClusterSettings.ToConfig"/>), then the node's agent, the job coordinator as a cluster singleton,
/// the proxy that finds it, and the members metric.
/// </summary>
public static class OrchestratorNode
{
    /// <summary>Where clients and nodes find the coordinator: the singleton proxy on every node.</summary>
    public const string CoordinatorProxyName = "coordinator-proxy";

    private const string CoordinatorManagerName = "coordinator";

    /// <param name="nodeConfig">The node's whole configuration (<see cref="ClusterSettings.ToConfig"/>).</param>
    /// <param name="devices">What the node offers as ranks, one rank each.</param>
    /// <param name="coordinatorReporter">Where the coordinator reports progress when it runs on this node (the node's console).</param>
    public static OrchestratorActorSystem Recipe(Config nodeConfig, string[] devices, ClusterCredentials credentials, NodeOutcome outcome, Props coordinatorReporter) =>
        OrchestratorActorSystem.Named(ClusterSettings.SystemName)
            .WithHocon(nodeConfig)
            .WithActors(system => system.ActorOf(ClusterMembersMetrics.Props(), "members-metrics"))
            .WithActors(system => system.ActorOf(NodeAgent.Props(devices, credentials, outcome), NodeAgent.Name))
            .WithActors(system =>
            {
                var reporter = system.ActorOf(coordinatorReporter, "console");
                system.ActorOf(
                    ClusterSingletonManager.Props(ClusterCoordinator.Props(reporter, credentials), PoisonPill.Instance, ClusterSingletonManagerSettings.Create(system)),
                    CoordinatorManagerName);
                system.ActorOf(ClusterSingletonProxy.Props($"/user/{CoordinatorManagerName}", ClusterSingletonProxySettings.Create(system)), CoordinatorProxyName);
            });

    /// <summary>
    /// Akka.Management's HTTP endpoints (health, and the answer bootstrapping nodes ask for) when the node has
    /// a management port, and Cluster Bootstrap when the node joins through discovery rather than seeds. The
    /// endpoint is bound before bootstrap starts: other nodes find this one by asking it.
    /// </summary>
    public static OrchestratorActorSystem WithManagement(this OrchestratorActorSystem recipe, ClusterSettings settings) =>
        settings.ManagementPort is not { } port ? recipe : recipe.WithActors(system =>
        {
            ManagementEndpoint.Start(system, settings.Hostname, port);
            if (settings.Join is ClusterJoin.KubernetesPods)
            {
                // Its defaults (the class, the service account's files) are injected by its extension, not found by discovery.
                KubernetesDiscovery.Get(system);
            }
            if (settings.Join.Bootstraps)
            {
                ClusterBootstrap.Get(system).Start().GetAwaiter().GetResult();
            }
        });
}
