using System.Net;
using System.Net.Sockets;
using Akka.Actor;
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

    /// <summary>A node on <paramref name="port"/> joining the seed on <paramref name="seedPort"/> (itself, to start the cluster).</summary>
    public ActorSystem Start(int port, int seedPort, Props reporter)
    {
        var settings = new ClusterSettings("127.0.0.1", port, new ClusterJoin.Seeds([$"127.0.0.1:{seedPort}"]), ["cpu"], null, secret, JournalSettings.SqliteAt(temp.Sub("journal.db")));
        var config = settings.ToConfig();
        var node = OrchestratorNode.Recipe(config, settings.Devices, ClusterCredentials.From(config), new NodeOutcome(), reporter).Build();
        _nodes.Add(node);
        return node;
    }

    /// <summary>Two nodes, the first the seed, once both are Up members; <paramref name="reporter"/> shows each one's progress.</summary>
    public async Task<(ActorSystem Seed, ActorSystem Worker)> StartTwoAsync(TestKitBase kit, Func<Props> reporter)
    {
        var seedPort = FreePort();
        var seed = Start(seedPort, seedPort, reporter());
        var worker = Start(FreePort(), seedPort, reporter());
        await kit.AwaitAssertAsync(
            () => Assert.Equal(2, Akka.Cluster.Cluster.Get(seed).State.Members.Count(m => m.Status == Akka.Cluster.MemberStatus.Up)),
            TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(200));
        return (seed, worker);
    }

    /// <summary>
    /// Submits <paramref name="spec"/> through <paramref name="via"/>'s coordinator proxy as a client would, waits
    /// until the cluster's status says it completed (within <paramref name="within"/>), and returns its history from the shared journal.
    /// </summary>
    public async Task<JobHistory> RunToEndAsync(TestKitBase kit, ActorSystem via, JobSpec spec, TimeSpan within)
    {
        var credentials = new ClusterCredentials(secret, []);
        var proxy = via.ActorSelection($"/user/{OrchestratorNode.CoordinatorProxyName}");
        var answer = await proxy.Ask<SubmitAnswer>(new SubmitJob(spec, credentials.Prove(spec.WorkDir), WireProtocol.Version), TimeSpan.FromSeconds(60));
        Assert.True(answer.Accepted, answer.Message);
        var statusProof = credentials.Prove(GetClusterStatus.ProofSubject);
        await kit.AwaitAssertAsync(
            async () =>
            {
                var status = await proxy.Ask<ClusterStatus>(new GetClusterStatus(statusProof), TimeSpan.FromSeconds(10));
                Assert.Contains(status.Jobs, job => job.WorkDir == spec.WorkDir && job.State == "completed");
            },
            within, TimeSpan.FromMilliseconds(200));
        var reader = via.ActorOf(JobHistoryReader.Props(JobSupervisor.PersistenceIdFor(spec.WorkDir)));
        return await reader.Ask<JobHistory>(ReadHistory.Instance, TimeSpan.FromSeconds(30));
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public void Dispose() => Task.WaitAll([.. _nodes.Select(n => n.Terminate())], TimeSpan.FromSeconds(30));
}
