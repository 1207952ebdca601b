using Akka.Actor;
using Orchestrator.Actors.Job;
using Orchestrator.Actors.Protocol;
using Orchestrator.Actors.Tests.Support;
using Orchestrator.Trainer.Checkpointing;

namespace Orchestrator.Actors.Tests.Job.Protocol;

/// <summary>
/// While the supervisor looks for its start checkpoint (off its thread, held open here by the test), what
/// arrives waits (the cluster's news goes on to the placement watch), except a stop, which ends the job at
/// once; nothing else that arrives meanwhile ends the job.
/// </summary>
public sealed class DiscoveryTests : SupervisorProtocolKit
{
    private const string NodeA = "akka.tcp://orchestrator@node-a:4053";

    [Fact]
    public async Task A_stop_while_the_start_checkpoint_is_sought_ends_the_job_at_once_and_leaves_the_checkpoints_as_they_are()
    {
        var spec = ScriptedSpec("stop-seeking", ranks: 2);
        // Committed on disk by a run whose process ended before its journal heard of it.
        var earlier = HandWrittenCheckpoint.Commit(spec, 3, "schedule", ScriptedJob.Weights);
        var discovery = new HeldDiscovery();
        var job = Run(spec, discovery: discovery.Runner);
        var search = await discovery.StartedAsync();

        job.Supervisor.Tell(StopJob.Instance);

        var finished = await job.Requester.ExpectMsgAsync<JobFinished>(ScriptedJob.Wait);
        Assert.Equal(new JobFinished(JobOutcome.Stopped, 0, null, "stopped before training resumed; no checkpoint saved (none yet), rerun the same command to continue"), finished);
        Assert.True(search.Cancelled);
        var events = await EventsAsync(spec);
        Assert.Equal([typeof(JobSubmitted), typeof(JobStopped)], events.Select(e => e.GetType()));
        var store = new CheckpointStore(spec.CheckpointDirectory, new CheckpointNaming());
        Assert.True(store.Verify(earlier.Path).IsValid);
        Assert.Equal("stopped", (await job.SettledAsync(CreateTestProbe())).State);
    }

    [Fact]
    public async Task Cluster_news_and_repeated_messages_while_the_start_is_sought_neither_end_the_job_nor_start_it_small()
    {
        var spec = ScriptedSpec("twice", ranks: 1, steps: 1) with { MinRanks = 1, MaxRanks = 1 };
        var discovery = new HeldDiscovery();
        var job = Run(spec, RankPlacement.Cluster(NodeA), discovery.Runner);
        var search = await discovery.StartedAsync();
        var nodeAgent = CreateTestProbe("node-agent");

        // Each twice, back to back from one sender: Akka's stash refuses the second of two equal messages.
        job.Supervisor.Tell(new MembersChanged([new NodeInfo(NodeA, ["cpu"])], []));
        job.Supervisor.Tell(new DirectoryChecked(NodeA, spec.CheckpointDirectory, Problem: null), nodeAgent.Ref);
        job.Supervisor.Tell(new DirectoryChecked(NodeA, spec.CheckpointDirectory, Problem: null), nodeAgent.Ref);
        job.Supervisor.Tell(RunJob.Instance, job.Requester.Ref);
        job.Supervisor.Tell(RunJob.Instance, job.Requester.Ref);
        search.Release();

        job.World = 1;
        await job.StartAllAsync();
        // The news was still with the placement watch when the search ended: the start waited for it, silently.
        var reported = new List<object>();
        await job.Reporter.FishForMessageAsync(m => { reported.Add(m); return m is ProgressStarted; }, ScriptedJob.Wait);
        Assert.DoesNotContain(reported, m => m is ProgressNote note && note.Message.StartsWith("waiting for ranks", StringComparison.Ordinal));
        await job.StepAsync(1);
        Assert.Equal(JobOutcome.Completed, (await job.CompleteAsync(1)).Outcome);
        Assert.Equal([NodeA], Assert.Single((await EventsAsync(spec)).OfType<RanksStarted>()).Nodes!);
    }
}
