using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.TestKit;
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
/// Two ranks on two in-process cluster nodes average their gradients around the ring, not through the
/// supervisor, and a rank that fails while its peer waits inside the collective is restarted as any failure
/// is: the job ends on exactly the weights of a run without the failure.
/// </summary>
public sealed class RingClusterTests : TestKit
{
    private const string Secret = "ring-secret";
    private readonly TempDirectory _temp = new();
    private readonly List<ActorSystem> _nodes = [];

    [Fact]
    public async Task A_rank_failing_while_its_peer_waits_in_the_ring_is_restarted_and_the_job_ends_on_the_uninterrupted_weights()
    {
        var notes = CreateTestProbe();
        var seedPort = FreePort();
        var seed = StartNode(seedPort, seedPort, notes);
        StartNode(FreePort(), seedPort, notes);
        await AwaitAssertAsync(
            () => Assert.Equal(2, Akka.Cluster.Cluster.Get(seed).State.Members.Count(m => m.Status == Akka.Cluster.MemberStatus.Up)),
            TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(200));

        var uninterrupted = await RunAsync(seed, "clean", []);
        await notes.FishForMessageAsync(m => m is ProgressNote note && note.Message.Contains("around a ring"), TimeSpan.FromSeconds(10));
        // Rank 1 throws in step 13: rank 0 has sent its first segment and waits in the ring for rank 1's.
        var interrupted = await RunAsync(seed, "crash", ["crash@step=13,rank=1"]);

        Assert.Single(interrupted.Events.OfType<RankFailed>());
        Assert.Equal(uninterrupted.Events.OfType<JobCompleted>().Single().WeightsSha256, interrupted.Events.OfType<JobCompleted>().Single().WeightsSha256);
    }

    private async Task<JobHistory> RunAsync(ActorSystem seed, string name, string[] faults)
    {
        var spec = new JobSpec
        {
            Job = MlpJob.Name,
            WorkDir = _temp.Sub(name),
            JobOptions = new BuiltInJobOptions { Seed = 3, Samples = 256 },
            Ranks = 2,
            Steps = 16,
            Schedule = new CheckpointSchedule(EveryIterations: 10),
            Faults = faults,
            Restarts = new RestartPolicy { BaseDelay = TimeSpan.Zero },
        };
        var proxy = seed.ActorSelection($"/user/{OrchestratorNode.CoordinatorProxyName}");
        var answer = await proxy.Ask<SubmitAnswer>(new SubmitJob(spec, new ClusterCredentials(Secret, []).Prove(spec.WorkDir), WireProtocol.Version), TimeSpan.FromSeconds(60));
        Assert.True(answer.Accepted, answer.Message);
        var statusProof = new ClusterCredentials(Secret, []).Prove(GetClusterStatus.ProofSubject);
        await AwaitAssertAsync(
            async () =>
            {
                var status = await proxy.Ask<ClusterStatus>(new GetClusterStatus(statusProof), TimeSpan.FromSeconds(10));
                Assert.Contains(status.Jobs, job => job.WorkDir == spec.WorkDir && job.State == "completed");
            },
            TimeSpan.FromMinutes(2), TimeSpan.FromMilliseconds(200));
        var reader = seed.ActorOf(JobHistoryReader.Props(JobSupervisor.PersistenceIdFor(spec.WorkDir)));
        var history = await reader.Ask<JobHistory>(ReadHistory.Instance, TimeSpan.FromSeconds(30));
        Assert.Equal(2, history.Events.OfType<RanksStarted>().First().Nodes!.Distinct().Count());
        return history;
    }

    private ActorSystem StartNode(int port, int seedPort, TestProbe notes)
    {
        var settings = new ClusterSettings("127.0.0.1", port, new ClusterJoin.Seeds([$"127.0.0.1:{seedPort}"]), ["cpu"], null, Secret, JournalSettings.SqliteAt(_temp.Sub("journal.db")));
        var config = settings.ToConfig();
        var node = OrchestratorNode.Recipe(config, settings.Devices, ClusterCredentials.From(config), new NodeOutcome(), Props.Create(() => new ForwardActor(notes.Ref))).Build();
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
