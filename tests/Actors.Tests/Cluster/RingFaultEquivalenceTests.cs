using Akka.Actor;
using Akka.TestKit.Xunit2;
using Orchestrator.Actors.Job;
using Orchestrator.Actors.Tests.Support;

namespace Orchestrator.Actors.Tests.Cluster;

/// <summary>
/// Ranks on distinct in-process cluster nodes average every gradient byte around the ring; a rank that
/// crashes, hangs, gets a NaN loss, or loses its node while its peers wait inside the collective is restarted
/// as any failure is, and the job ends on exactly the weights of the uninterrupted run at the same world size.
/// Each fault fires at a step after the checkpoint at step 10, in the faulty rank's forward pass: by then the
/// other ranks have sent their first segments and wait in the ring for the faulty rank's.
/// </summary>
public sealed class RingFaultEquivalenceTests(RingNodes ring) : TestKit, IClassFixture<RingNodes>
{
    [Fact]
    public async Task Three_ranks_a_crash_in_the_ring_ends_on_the_uninterrupted_weights()
    {
        var faulty = await FaultyRunAsync(3, "crash-3", ["crash@step=13,rank=1"]);

        Assert.Equal(1, faulty.Events.OfType<RankFailed>().Single().Rank);
    }

    [Fact]
    public async Task Three_ranks_a_NaN_loss_in_the_ring_ends_on_the_uninterrupted_weights()
    {
        var faulty = await FaultyRunAsync(3, "nan-3", ["nan@step=13,rank=2"]);

        var failed = faulty.Events.OfType<RankFailed>().Single();
        Assert.Equal(2, failed.Rank);
        Assert.Contains("loss is NaN", failed.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Four_ranks_a_hung_rank_is_the_one_blamed_and_the_job_ends_on_the_uninterrupted_weights()
    {
        // Step 11 is the first after the checkpoint: only the rank blamed is recreated, so blaming a waiting
        // peer would leave the hung rank hung. Ranks 3, 0 and 1 all wait in the ring, each for its previous.
        var faulty = await FaultyRunAsync(4, "hang-4", ["hang@step=11,rank=2"], TimeSpan.FromSeconds(2));

        var failures = faulty.Events.OfType<RankFailed>().ToList();
        Assert.True(failures is [{ Rank: 2 }], $"blamed: {string.Join("; ", failures.Select(f => $"rank {f.Rank} ({f.Reason})"))}");
        Assert.Equal("rank 2 sent no gradients on the ring within 2 s", failures[0].Reason); // told by rank 3, behind it
        Assert.Equal("one", faulty.Events.OfType<RestartScheduled>().Single().Mode);
    }

    [Fact]
    public async Task Four_ranks_a_node_lost_while_its_rank_is_inside_the_ring_is_replaced_by_a_spare_and_the_job_ends_on_the_uninterrupted_weights()
    {
        var uninterrupted = await ring.UninterruptedAsync(this, 4);
        var nodes = await ring.StartedAsync(this);
        var seed = nodes[0]; // the coordinator's node, and so the supervisor's: not the one lost
        // Rank 3 hangs in step 13, so no rank leaves that step's collective: ranks 0, 1 and 2 wait inside it,
        // each having sent its first segments, until the loss of a node among theirs ends it.
        var spec = ring.Spec("node-lost-4", 4, ["hang@step=13,rank=3"]);
        await ring.Nodes.SubmitAsync(seed, spec);
        var before = await AwaitEventsAsync(seed, spec, events => events.OfType<FaultFired>().Any());
        var placed = before.OfType<RanksStarted>().Single().Nodes!;
        var seedAddress = Akka.Cluster.Cluster.Get(seed).SelfAddress.ToString();
        var lost = new[] { 1, 2, 0 }.First(rank => placed[rank] != seedAddress);
        var node = nodes.Single(n => Akka.Cluster.Cluster.Get(n).SelfAddress.ToString() == placed[lost]);

        await InProcessNodes.KillAsync(node);

        var faulty = await ring.Nodes.CompletedAsync(this, seed, spec, TimeSpan.FromMinutes(2));
        // Found by its silence (the ring's closed links are told only after the cluster could have found it).
        var failed = faulty.Events.OfType<RankFailed>().Single();
        Assert.Equal((lost, $"node {placed[lost]} holding rank {lost} is unreachable or left the cluster"), (failed.Rank, failed.Reason));
        var restarted = faulty.Events.OfType<RanksStarted>().Last();
        Assert.Equal(4, restarted.Nodes!.Distinct().Count());
        Assert.DoesNotContain(placed[lost], restarted.Nodes!);
        Assert.Equal(uninterrupted.Events.OfType<JobCompleted>().Single().WeightsSha256, faulty.Events.OfType<JobCompleted>().Single().WeightsSha256);
        // Downed now rather than by the split brain resolver later: the next test places ranks on a settled cluster.
        var lostAddress = Akka.Actor.Address.Parse(placed[lost]);
        Akka.Cluster.Cluster.Get(seed).Down(lostAddress);
        await AwaitAssertAsync(
            () => Assert.DoesNotContain(Akka.Cluster.Cluster.Get(seed).State.Members, m => m.Address == lostAddress),
            TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(200));
    }

    private async Task<IReadOnlyList<JobEvent>> AwaitEventsAsync(ActorSystem via, JobSpec spec, Func<IReadOnlyList<JobEvent>, bool> until)
    {
        IReadOnlyList<JobEvent> events = [];
        await AwaitAssertAsync(
            async () =>
            {
                events = (await InProcessNodes.HistoryAsync(via, spec.WorkDir)).Events;
                Assert.True(until(events));
            },
            TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(100));
        return events;
    }

    private async Task<JobHistory> FaultyRunAsync(int ranks, string name, string[] faults, TimeSpan? stepTimeout = null)
    {
        var uninterrupted = await ring.UninterruptedAsync(this, ranks);
        var faulty = await ring.RunAsync(this, ring.Spec(name, ranks, faults, stepTimeout));

        foreach (var run in new[] { uninterrupted, faulty })
        {
            // One rank per node: every gradient byte goes around the ring, none through the supervisor.
            Assert.All(run.Events.OfType<RanksStarted>(), started => Assert.Equal(ranks, started.Nodes!.Distinct().Count()));
        }
        Assert.Equal(uninterrupted.Events.OfType<JobCompleted>().Single().WeightsSha256, faulty.Events.OfType<JobCompleted>().Single().WeightsSha256);
        return faulty;
    }
}
