using Akka.Actor;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using Orchestrator.Actors.Job;
using Orchestrator.Actors.Job.Placement;
using Orchestrator.Actors.Protocol;
using Orchestrator.Actors.Tests.Support;

namespace Orchestrator.Actors.Tests.Job.Placement;

/// <summary>
/// The placement watch as its supervisor (a probe, its parent) and the nodes' agents see it. This actor
/// system is the one real node (its agent is a probe at /user/node); other nodes are addresses whose
/// agents the test plays by sending their answers.
/// </summary>
public sealed class PlacementWatchTests : TestKit
{
    private const string NodeB = "akka.tcp://orchestrator@node-b:4053";
    private const string NodeC = "akka.tcp://orchestrator@node-c:4053";

    private readonly TempDirectory _temp = new();
    private readonly TestProbe _supervisor;
    private readonly TestProbe _nodeAgent;
    private readonly string _nodeA;
    private readonly JobSpec _spec;

    public PlacementWatchTests()
    {
        _supervisor = CreateTestProbe("supervisor");
        _nodeAgent = CreateTestProbe("agent");
        Sys.ActorOf(Props.Create(() => new Forwarder(_nodeAgent.Ref)), CheckDirectory.NodeAgentName);
        _nodeA = ((ExtendedActorSystem)Sys).Provider.DefaultAddress.ToString();
        _spec = new JobSpec { Job = "placed", WorkDir = _temp.Sub("job"), Ranks = 1 };
    }

    private IActorRef Watch(TimeSpan? checksWait = null) => 
        _supervisor.ChildActorOf(PlacementWatch.Props(_spec, checksWait ?? TimeSpan.FromMinutes(1)), "placement", SupervisorStrategy.DefaultStrategy);

    private static MembersChanged Members(string[] nodes, params string[] draining) =>
        new(nodes.Select(n => new NodeInfo(n, ["cpu", "cuda:0"])).ToArray(), draining);

    private Task<SlotsChanged> ToldAsync() => _supervisor.ExpectMsgAsync<SlotsChanged>(ScriptedJob.Wait).AsTask();

    [Fact]
    public async Task A_new_node_is_asked_to_read_the_probe_and_its_devices_are_usable_once_it_has()
    {
        var watch = Watch();
        watch.Tell(Members([_nodeA]));

        var check = await _nodeAgent.ExpectMsgAsync<CheckDirectory>(ScriptedJob.Wait);
        Assert.Equal((_spec.CheckpointDirectory, check.Token), (check.Directory, File.ReadAllText(check.ProbeFile)));
        var waiting = await ToldAsync();
        Assert.Equal((true, true, 0), (waiting.AnswersMembersChanged, waiting.AwaitingChecks, waiting.Usable.Count));
        Assert.Equal([_nodeA], waiting.Members);

        _nodeAgent.Reply(new DirectoryChecked(_nodeA, check.Directory, Problem: null));

        var usable = await ToldAsync();
        Assert.Equal((false, false), (usable.AnswersMembersChanged, usable.AwaitingChecks));
        Assert.Equal([new RankSlot(_nodeA, "cpu"), new RankSlot(_nodeA, "cuda:0")], usable.Usable);
    }

    [Fact]
    public async Task A_node_that_cannot_see_the_directory_is_declined_and_offers_no_slots()
    {
        var watch = Watch();
        watch.Tell(Members([_nodeA]));
        var check = await _nodeAgent.ExpectMsgAsync<CheckDirectory>(ScriptedJob.Wait);
        await ToldAsync();

        _nodeAgent.Reply(new DirectoryChecked(_nodeA, check.Directory, "cannot read the probe file"));

        Assert.Equal(new NodeCannotTakeRanks(_nodeA, "cannot read the probe file"), await _supervisor.ExpectMsgAsync<NodeCannotTakeRanks>(ScriptedJob.Wait));
        var told = await ToldAsync();
        Assert.Equal((false, 0), (told.AwaitingChecks, told.Usable.Count));
        Assert.Equal(new NodeDeclined("placed", "cannot read the probe file"), await _nodeAgent.ExpectMsgAsync<NodeDeclined>(ScriptedJob.Wait));
    }

    [Fact]
    public async Task A_draining_node_is_named_and_a_node_that_left_is_checked_again_when_it_returns()
    {
        var watch = Watch();
        watch.Tell(Members([_nodeA, NodeB]));
        await _nodeAgent.ExpectMsgAsync<CheckDirectory>(ScriptedJob.Wait);
        await ToldAsync();
        watch.Tell(new DirectoryChecked(_nodeA, _spec.CheckpointDirectory, null));
        watch.Tell(new DirectoryChecked(NodeB, _spec.CheckpointDirectory, null));
        await ToldAsync();
        Assert.Equal(4, (await ToldAsync()).Usable.Count);

        watch.Tell(Members([NodeB], draining: _nodeA));
        var draining = await ToldAsync();
        Assert.True(draining.IsDraining(_nodeA) && !draining.IsMember(_nodeA) && draining.IsMember(NodeB));
        Assert.Equal([NodeB, NodeB], draining.Usable.Select(s => s.Node));

        watch.Tell(Members([NodeB]));
        watch.Tell(new DirectoryChecked(_nodeA, _spec.CheckpointDirectory, null)); // late, from a node no longer a member: ignored
        watch.Tell(Members([_nodeA, NodeB]));
        var left = await ToldAsync();
        Assert.False(left.IsMember(_nodeA) || left.IsDraining(_nodeA));
        var back = await ToldAsync();
        Assert.Equal((true, true), (back.AnswersMembersChanged, back.AwaitingChecks));
        Assert.Equal([NodeB, NodeB], back.Usable.Select(s => s.Node));
        await _nodeAgent.ExpectMsgAsync<CheckDirectory>(ScriptedJob.Wait); // asked again
    }

    [Fact]
    public async Task The_wait_for_a_node_that_does_not_answer_ends_after_the_checks_wait()
    {
        var watch = Watch(checksWait: TimeSpan.FromMilliseconds(50));
        watch.Tell(Members([NodeC]));
        Assert.True((await ToldAsync()).AwaitingChecks);

        var over = await ToldAsync();

        Assert.Equal((false, false, 0), (over.AnswersMembersChanged, over.AwaitingChecks, over.Usable.Count));
        Assert.True(over.IsMember(NodeC)); // still a member: its answer, when it comes, is taken
    }

    [Fact]
    public async Task A_probe_that_cannot_be_written_fails_the_supervisor_with_its_cause()
    {
        var watch = Watch();
        _supervisor.Watch(watch);
        Directory.CreateDirectory(Path.Combine(_spec.CheckpointDirectory, DirectoryProbe.FileName + ".tmp"));

        watch.Tell(Members([_nodeA]));

        var failed = await _supervisor.ExpectMsgAsync<PlacementFailed>(ScriptedJob.Wait);
        Assert.True(failed.Cause is IOException or UnauthorizedAccessException, failed.Cause.ToString());
        await _supervisor.ExpectTerminatedAsync(watch, ScriptedJob.Wait);
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            _temp.Dispose();
        }
    }

    private sealed class Forwarder : ReceiveActor
    {
        public Forwarder(IActorRef to) => ReceiveAny(message => to.Forward(message));
    }
}
