using Akka.Actor;
using Akka.TestKit.TestActors;
using Akka.TestKit.Xunit2;
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
        var (_, worker) = await _nodes.StartTwoAsync(this, () => Props.Create<BlackHoleActor>());
        var spec = new JobSpec
        {
            Job = MlpJob.Name,
            WorkDir = _temp.Sub("job"),
            JobOptions = new BuiltInJobOptions { Seed = 3, Samples = 256 },
            Ranks = 2,
            Steps = 20,
            Schedule = new CheckpointSchedule(EveryIterations: 10),
        };

        var history = await _nodes.RunToEndAsync(this, worker, spec, TimeSpan.FromMinutes(3));

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
