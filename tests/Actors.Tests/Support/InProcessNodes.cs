using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit;
using Orchestrator.Actors.Cluster;
using Orchestrator.Actors.Hosting;
using Orchestrator.Actors.Job;
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

    /// <summary>
    /// A node on <paramref name="port"/> joining the seed on <paramref name="seedPort"/> (itself, to start the
    /// cluster). <paramref name="over"/>, if given, is laid over the node's configuration.
    /// </summary>
    public ActorSystem Start(int port, int seedPort, Props reporter, Config? over = null)
    {
        var settings = new ClusterSettings("127.0.0.1", port, new ClusterJoin.Seeds([$"127.0.0.1:{seedPort}"]), ["cpu"], null, secret, JournalSettings.SqliteAt(temp.Sub("journal.db")));
        var config = over is null ? settings.ToConfig() : over.WithFallback(settings.ToConfig());
        var node = OrchestratorNode.Recipe(config, settings.Devices, ClusterCredentials.From(config), new NodeOutcome(), reporter).Build();
        _nodes.Add(node);
        return node;
    }

    /// <summary>Two nodes, the first the seed, once both are Up members; <paramref name="reporter"/> shows each one's progress.</summary>
    public async Task<(ActorSystem Seed, ActorSystem Worker)> StartTwoAsync(TestKitBase kit, Func<Props> reporter)
    {
        var nodes = await StartAsync(kit, 2, reporter);
        return (nodes[0], nodes[1]);
    }

    /// <summary>
    /// <paramref name="count"/> nodes of one cpu slot each, the first the seed, once all are Up members.
    /// <paramref name="over"/>, if given, is laid over every node's configuration.
    /// </summary>
    public async Task<IReadOnlyList<ActorSystem>> StartAsync(TestKitBase kit, int count, Func<Props> reporter, Config? over = null)
    {
        var seedPort = FreePort();
        var nodes = new List<ActorSystem> { Start(seedPort, seedPort, reporter(), over) };
        for (var i = 1; i < count; i++)
        {
            nodes.Add(Start(FreePort(), seedPort, reporter(), over));
        }
        await kit.AwaitAssertAsync(
            () => Assert.Equal(count, Akka.Cluster.Cluster.Get(nodes[0]).State.Members.Count(m => m.Status == Akka.Cluster.MemberStatus.Up)),
            TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(200));
        return nodes;
    }

    /// <summary>
    /// Submits <paramref name="spec"/> through <paramref name="via"/>'s coordinator proxy as a client would, waits
    /// until the cluster's status says it completed (within <paramref name="within"/>), and returns its history from the shared journal.
    /// </summary>
    public async Task<JobHistory> RunToEndAsync(TestKitBase kit, ActorSystem via, JobSpec spec, TimeSpan within)
    {
        await SubmitAsync(via, spec);
        return await CompletedAsync(kit, via, spec, within);
    }

    /// <summary>Submits <paramref name="spec"/> through <paramref name="via"/>'s coordinator proxy as a client would.</summary>
    public async Task SubmitAsync(ActorSystem via, JobSpec spec)
    {
        var credentials = new ClusterCredentials(secret, []);
        var answer = await Proxy(via).Ask<SubmitAnswer>(new SubmitJob(spec, credentials.Prove(spec.WorkDir), WireProtocol.Version), TimeSpan.FromSeconds(60));
        Assert.True(answer.Accepted, answer.Message);
    }

    /// <summary>Waits until the cluster's status says <paramref name="spec"/> completed, and returns its history.</summary>
    public async Task<JobHistory> CompletedAsync(TestKitBase kit, ActorSystem via, JobSpec spec, TimeSpan within)
    {
        var statusProof = new ClusterCredentials(secret, []).Prove(GetClusterStatus.ProofSubject);
        var proxy = Proxy(via);
        await kit.AwaitAssertAsync(
            async () =>
            {
                var status = await proxy.Ask<ClusterStatus>(new GetClusterStatus(statusProof), TimeSpan.FromSeconds(10));
                Assert.Contains(status.Jobs, job => job.WorkDir == spec.WorkDir && job.State == "completed");
            },
            within, TimeSpan.FromMilliseconds(200));
        return await HistoryAsync(via, spec.WorkDir);
    }

    /// <summary>The job's history as the shared journal holds it now.</summary>
    public static async Task<JobHistory> HistoryAsync(ActorSystem via, string workDir)
    {
        var reader = via.ActorOf(JobHistoryReader.Props(JobSupervisor.PersistenceIdFor(workDir)));
        return await reader.Ask<JobHistory>(ReadHistory.Instance, TimeSpan.FromSeconds(30));
    }

    private static ActorSelection Proxy(ActorSystem via) => via.ActorSelection($"/user/{OrchestratorNode.CoordinatorProxyName}");

    /// <summary>
    /// Ends <paramref name="node"/> as a killed process ends: its remoting goes first, so no other node hears
    /// from it again (no leave, no word of its actors stopping) and the cluster finds it only by its silence;
    /// then its actors stop and their sockets close, as the kernel closes a killed process's.
    /// </summary>
    public static async Task KillAsync(ActorSystem node)
    {
        await ((Akka.Remote.IRemoteActorRefProvider)((ExtendedActorSystem)node).Provider).Transport.Shutdown();
        await node.Terminate();
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public void Dispose() => Task.WaitAll([.. _nodes.Select(n => n.Terminate())], TimeSpan.FromSeconds(30));
}
