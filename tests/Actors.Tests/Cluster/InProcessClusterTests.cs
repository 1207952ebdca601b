using Akka.Actor;
using Akka.TestKit.TestActors;
using Akka.TestKit.Xunit2;
using Orchestrator.Actors.Cluster;
using Orchestrator.Actors.Hosting;
using Orchestrator.Actors.Job;
using Orchestrator.Actors.Tests.Support;
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
    private readonly InProcessNodes _nodes;

    public InProcessClusterTests()
    {
        _nodes = new InProcessNodes(_temp, Secret);
    }

    [Fact]
    public async Task A_job_submitted_to_two_in_process_nodes_places_a_rank_on_each_and_completes()
    {
        var seedPort = InProcessNodes.FreePort();
        var seed = _nodes.Start(seedPort, seedPort, Props.Create<BlackHoleActor>());
        var worker = _nodes.Start(InProcessNodes.FreePort(), seedPort, Props.Create<BlackHoleActor>());
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



    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _nodes.Dispose();
        }
        base.Dispose(disposing);
        if (disposing)
        {
            _temp.Dispose();
        }
    }
}
