using Akka.Actor;
using Akka.Configuration;
using Orchestrator.Actors.Cluster;
using Orchestrator.Actors.Persistence;

namespace Orchestrator.Actors.Tests.Cluster;

/// <summary>
/// One actor system per test class with a node's own configuration (the embedded cluster.hocon), on a free
/// port and with no seeds: it never forms a cluster, but serializes exactly as a node does.
/// </summary>
public sealed class ClusterConfiguredSystem : IDisposable
{
    public ActorSystem System { get; } = ActorSystem.Create(
        "serialization",
        ConfigurationFactory.ParseString("akka.remote.dot-netty.tcp.port = 0").WithFallback(ClusterSettings.Defaults).WithFallback(OrchestratorSystem.Reference));

    public void Dispose() => System.Terminate().Wait(TimeSpan.FromSeconds(10));
}
