using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Orchestrator.Actors.Cluster;
using Orchestrator.Actors.Hosting;
using Orchestrator.Actors.Persistence;

namespace Orchestrator.Actors.Tests.Support;

/// <summary>
/// Cluster nodes in the test's process, each built with <see cref="OrchestratorNode.Recipe"/> exactly as
/// <c>orchestrator node</c> builds its own, sharing one SQLite journal in <paramref name="temp"/>; terminated
/// when disposed.
/// </summary>
public sealed class InProcessNodes(TempDirectory temp, string secret) : IDisposable
{
    private readonly List<ActorSystem> _nodes = [];

    /// <summary>A node on <paramref name="port"/> joining the seed on <paramref name="seedPort"/> (itself, to start the cluster).</summary>
    public ActorSystem Start(int port, int seedPort, Props reporter)
    {
        var settings = new ClusterSettings("127.0.0.1", port, new ClusterJoin.Seeds([$"127.0.0.1:{seedPort}"]), ["cpu"], null, secret, JournalSettings.SqliteAt(temp.Sub("journal.db")));
        var config = settings.ToConfig();
        var node = OrchestratorNode.Recipe(config, settings.Devices, ClusterCredentials.From(config), new NodeOutcome(), reporter).Build();
        _nodes.Add(node);
        return node;
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public void Dispose() => Task.WaitAll([.. _nodes.Select(n => n.Terminate())], TimeSpan.FromSeconds(30));
}
