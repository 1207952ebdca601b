using Akka.Actor;
using Orchestrator.Actors.Cluster;
using Orchestrator.Actors.Job;
using Orchestrator.Actors.Protocol;
using Orchestrator.Actors.Tests.Support;

namespace Orchestrator.Actors.Tests.Job.Protocol;

/// <summary>
/// An elastic job on a cluster (between its minimum and maximum ranks) changes its world size only at a
/// checkpoint: it grows when a node joins, and moves off a drained node, without counting a failure. The
/// test plays the cluster's coordinator (MembersChanged) and each node agent (DirectoryChecked); every node
/// is this actor system, so the ranks are still made here by the stand-ins.
/// </summary>
public sealed class ResizeTests : SupervisorProtocolKit
{
    private const string NodeA = "akka.tcp://orchestrator@node-a:4053";
    private const string NodeB = "akka.tcp://orchestrator@node-b:4053";
    private const string NodeC = "akka.tcp://orchestrator@node-c:4053";

    private JobSpec ElasticSpec(string name, int minRanks, int maxRanks, long steps) =>
        ScriptedSpec(name, ranks: minRanks, steps: steps) with { MinRanks = minRanks, MaxRanks = maxRanks };

    /// <summary>The coordinator's view changes; each new node's agent reports the job's directory usable.</summary>
    private async Task NodesAsync(ScriptedJob job, string[] nodes, string[]? draining = null, params string[] newNodes)
    {
        job.Supervisor.Tell(new MembersChanged(nodes.Select(n => new NodeInfo(n, ["cpu"])).ToArray(), draining ?? []));
        foreach (var node in newNodes)
        {
            job.Supervisor.Tell(new DirectoryChecked(node, job.Spec.CheckpointDirectory, Problem: null));
        }
        await job.PlacementSettledAsync(CreateTestProbe());
    }

    [Fact]
    public async Task A_job_waits_below_its_minimum_ranks_and_starts_with_every_usable_device_once_enough_nodes_are_checked()
    {
        var spec = ElasticSpec("wait", minRanks: 2, maxRanks: 3, steps: 1);
        var job = Run(spec, RankPlacement.Cluster(NodeA));
        var waiting = await job.ReportedAsync<ProgressNote>();
        Assert.Equal("waiting for ranks: 0 device(s) available, the job needs at least 2 (--min-ranks)", waiting.Message);

        await NodesAsync(job, [NodeA], null, NodeA);
        Assert.Equal("waiting for ranks: 1 device(s) available, the job needs at least 2 (--min-ranks)", (await job.ReportedAsync<ProgressNote>()).Message);
        await NodesAsync(job, [NodeA, NodeB, NodeC], null, NodeB, NodeC);

        job.World = 3;
        await job.StartAllAsync();
        Assert.Equal(3, job.Ranks.SpecOf(job.Ranks[2].LastSender.Path.Name).Ranks);
        await job.StepAsync(1);
        Assert.Equal(JobOutcome.Completed, (await job.CompleteAsync(1)).Outcome);
        var started = Assert.Single((await EventsAsync(spec)).OfType<RanksStarted>());
        Assert.Equal([NodeA, NodeB, NodeC], started.Nodes!);
    }

    [Fact]
    public async Task A_node_joining_grows_the_job_at_its_next_checkpoint_from_that_checkpoint()
    {
        var spec = ElasticSpec("grow", minRanks: 2, maxRanks: 3, steps: 4);
        var job = Run(spec, RankPlacement.Cluster(NodeA));
        await NodesAsync(job, [NodeA, NodeB], null, NodeA, NodeB);
        await job.StartAllAsync();
        await job.StepAsync(1);
        await job.ComputeAsync(2);

        await NodesAsync(job, [NodeA, NodeB, NodeC], null, NodeC);

        // The step in flight ends as usual; the checkpoint due at its end is the resize's, written before the restart.
        await job.FinishStepAsync(2, epochEnded: true);
        var save = await job.CheckpointBarrierAsync(2);
        Assert.Equal("resize", save.Reason.ToString(), ignoreCase: true);
        Assert.True(save.Blocking);
        var before = WatchRanks(job, 0, 1);
        job.Captured(save);
        var checkpoint = job.Written(save);

        await ExpectStoppedAsync(before);
        job.World = 3;
        var starts = await job.StartAllAsync(step: 2);
        Assert.All(starts, start => Assert.Equal(new StartRank(2, checkpoint.Path, null, false, false), start));
        Assert.All(Enumerable.Range(0, 3), rank => Assert.Equal(3, job.Ranks.SpecOf(job.Ranks[rank].LastSender.Path.Name).Ranks));
        Assert.Equal($"resizing from 2 to 3 rank(s) at {checkpoint.Name} (nodes joined)", (await job.ReportedAsync<ProgressNote>(n => n.Message.StartsWith("resizing", StringComparison.Ordinal))).Message);
        await job.StepAsync(3);
        await job.StepAsync(4);
        Assert.Equal(JobOutcome.Completed, (await job.CompleteAsync(4)).Outcome);

        var events = await EventsAsync(spec);
        var resized = Assert.Single(events.OfType<WorldResized>());
        Assert.Equal((2, 3, checkpoint.Name, 2L, "nodes joined"), (resized.FromRanks, resized.ToRanks, resized.Checkpoint, resized.Step, resized.Reason));
        Assert.Equal([2, 3], events.OfType<RanksStarted>().Select(r => r.Ranks));
        Assert.Equal([NodeA, NodeB, NodeC], events.OfType<RanksStarted>().Last().Nodes!);
        Assert.Empty(events.OfType<RankFailed>());
        Assert.Empty(events.OfType<RestartScheduled>());
    }

    [Fact]
    public async Task A_drained_node_moves_its_ranks_off_at_the_next_step_end_without_a_failure()
    {
        var spec = ElasticSpec("drain", minRanks: 1, maxRanks: 2, steps: 3);
        var job = Run(spec, RankPlacement.Cluster(NodeA));
        await NodesAsync(job, [NodeA, NodeB], null, NodeA, NodeB);
        job.World = 2;
        await job.StartAllAsync();
        await job.StepAsync(1);
        await job.ComputeAsync(2);

        await NodesAsync(job, [NodeA], draining: [NodeB]);

        await job.FinishStepAsync(2); // no checkpoint is due by the schedule: the drain asks for one
        var save = await job.CheckpointBarrierAsync(2);
        Assert.Equal("resize", save.Reason.ToString(), ignoreCase: true);
        job.Captured(save);
        var checkpoint = job.Written(save);

        job.World = 1;
        var start = Assert.Single(await job.StartAllAsync(step: 2));
        Assert.Equal(new StartRank(2, checkpoint.Path, null, false, false), start);
        Assert.Equal(1, job.Ranks.SpecOf(job.Ranks[0].LastSender.Path.Name).Ranks);
        await job.StepAsync(3); // alone: a one-rank world applies its own gradients
        Assert.Equal(JobOutcome.Completed, (await job.CompleteAsync(3)).Outcome);

        var events = await EventsAsync(spec);
        var resized = Assert.Single(events.OfType<WorldResized>());
        Assert.Equal((2, 1, "node drained"), (resized.FromRanks, resized.ToRanks, resized.Reason));
        Assert.Equal([NodeA], events.OfType<RanksStarted>().Last().Nodes!);
        Assert.Empty(events.OfType<RankFailed>());
    }

    [Fact]
    public async Task A_node_lost_while_stepping_fails_its_rank_and_every_rank_restarts_in_the_smaller_world()
    {
        var spec = ElasticSpec("lost", minRanks: 1, maxRanks: 2, steps: 2);
        var job = Run(spec, RankPlacement.Cluster(NodeA));
        await NodesAsync(job, [NodeA, NodeB], null, NodeA, NodeB);
        job.World = 2;
        await job.StartAllAsync();
        await job.ComputeAsync(1);

        await NodesAsync(job, [NodeA]);

        job.World = 1;
        var start = Assert.Single(await job.StartAllAsync());
        Assert.Equal(new StartRank(2, null, null, false, false), start);
        await job.StepAsync(1);
        await job.StepAsync(2);
        Assert.Equal(JobOutcome.Completed, (await job.CompleteAsync(2)).Outcome);

        var events = await EventsAsync(spec);
        var failure = Assert.Single(events.OfType<RankFailed>());
        Assert.Equal((1, $"node {NodeB} holding rank 1 is unreachable or left the cluster"), (failure.Rank, failure.Reason));
        Assert.Equal("all", ModeOf(Assert.Single(events.OfType<RestartScheduled>())));
        Assert.Equal([2, 1], events.OfType<RanksStarted>().Select(r => r.Ranks));
        Assert.Empty(events.OfType<WorldResized>());
    }
}
