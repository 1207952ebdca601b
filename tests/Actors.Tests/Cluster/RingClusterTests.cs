using Akka.Actor;
using Akka.TestKit.TestActors;
using Akka.TestKit.Xunit2;
using Orchestrator.Actors.Job;
using Orchestrator.Actors.Tests.Support;
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
    private readonly InProcessNodes _nodes;

    public RingClusterTests()
    {
        _nodes = new InProcessNodes(_temp, Secret);
    }

    [Fact]
    public async Task A_rank_failing_while_its_peer_waits_in_the_ring_is_restarted_and_the_job_ends_on_the_uninterrupted_weights()
    {
        var notes = CreateTestProbe();
        var (seed, _) = await _nodes.StartTwoAsync(this, () => Props.Create(() => new ForwardActor(notes.Ref)));
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
        var history = await _nodes.RunToEndAsync(this, seed, spec, TimeSpan.FromMinutes(2));
        Assert.Equal(2, history.Events.OfType<RanksStarted>().First().Nodes!.Distinct().Count());
        return history;
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
