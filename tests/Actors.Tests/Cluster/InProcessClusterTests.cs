using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.TestKit.TestActors;
using Akka.TestKit.Xunit2;
using Orchestrator.Actors.Cluster;
using Orchestrator.Actors.Hosting;
using Orchestrator.Actors.Job;
using Orchestrator.Actors.Persistence;
using Orchestrator.Trainer.Checkpointing;
using Orchestrator.Trainer.Jobs;

namespace Orchestrator.Actors.Tests.Cluster;

/// <summary>
/// Two cluster nodes in this process, each built with <see cref="OrchestratorNode.Recipe"/> exactly as
/// <c>orchestrator node</c> builds its own (remoting, cluster, shared journal, node agent, coordinator
/// singleton): for what the actors do across nodes, where a real process adds nothing but start-up time.
/// </summary>
public sealed class InProcessClusterTests : TestKit
{
    private const string Secret = "in-process-secret";
    private readonly TempDirectory _temp = new();
    private readonly List<ActorSystem> _nodes = [];

    [Fact]
    public async Task A_job_submitted_to_two_in_process_nodes_places_a_rank_on_each_and_completes()
    {
        var seedPort = FreePort();
        var seed = StartNode(seedPort, seedPort);
        var worker = StartNode(FreePort(), seedPort);
        await AwaitAssertAsync(
            () => Assert.Equal(2, Akka.Cluster.Cluster.Get(seed).State.Members.Count(m => m.Status == Akka.Cluster.MemberStatus.Up)),
            TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(200));
        var spec = new JobSpec
        {
            Job = MlpJob.Name,
            WorkDir = _temp.Sub("job"),
            JobOptions = new BuiltInJobOptions { Seed = 3, Samples = 256 },
            Ranks = 2,
            Steps = 20,
            Schedule = new CheckpointSchedule(EveryIterations: 10),
        };
        var proxy = worker.ActorSelection($"/user/{OrchestratorNode.CoordinatorProxyName}");

        var answer = await proxy.Ask<SubmitAnswer>(new SubmitJob(spec, new ClusterCredentials(Secret, []).Prove(spec.WorkDir), WireProtocol.Version), TimeSpan.FromSeconds(60));

        Assert.True(answer.Accepted, answer.Message);
        var statusProof = new ClusterCredentials(Secret, []).Prove(GetClusterStatus.ProofSubject);
        await AwaitAssertAsync(
            async () =>
            {
                var status = await proxy.Ask<ClusterStatus>(new GetClusterStatus(statusProof), TimeSpan.FromSeconds(10));
                Assert.Contains(status.Jobs, job => job.WorkDir == spec.WorkDir && job.State == "completed");
            },
            TimeSpan.FromMinutes(3), TimeSpan.FromMilliseconds(500));
        var reader = seed.ActorOf(JobHistoryReader.Props(JobSupervisor.PersistenceIdFor(spec.WorkDir)));
        var history = await reader.Ask<JobHistory>(ReadHistory.Instance, TimeSpan.FromSeconds(30));
        var started = history.Events.OfType<RanksStarted>().First();
        Assert.Equal(2, started.Nodes!.Distinct().Count());
        Assert.Equal((JobStatus.Completed, 20L), (history.State.Status, history.State.Step));
    }

    private ActorSystem StartNode(int port, int seedPort)
    {
        var settings = new ClusterSettings("127.0.0.1", port, new ClusterJoin.Seeds([$"127.0.0.1:{seedPort}"]), ["cpu"], null, Secret, JournalSettings.SqliteAt(_temp.Sub("journal.db")));
        var config = settings.ToConfig();
        var node = OrchestratorNode.Recipe(config, settings.Devices, ClusterCredentials.From(config), new NodeOutcome(), Props.Create<BlackHoleActor>()).Build();
        _nodes.Add(node);
        return node;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Task.WaitAll([.. _nodes.Select(n => n.Terminate())], TimeSpan.FromSeconds(30));
        }
        base.Dispose(disposing);
        if (disposing)
        {
            _temp.Dispose();
        }
    }
}
