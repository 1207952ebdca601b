using Akka.Actor;
using Orchestrator.Actors.Protocol;
using Orchestrator.Trainer.Jobs.Loading;

namespace Orchestrator.Actors.Job.Placement;

/// <summary>
/// A job supervisor's child that knows where the job's ranks may run: it takes the coordinator's news of the
/// cluster's members (passed on by the supervisor), asks every new node's agent whether it sees the job's
/// checkpoint directory and can load its code, and tells the supervisor the usable slots each time they may
/// have changed (<see cref="SlotsChanged"/>). What a change means for ranks that run (a lost node fails its
/// ranks, a drained or new one resizes the job at a checkpoint) is the supervisor's to decide.
/// </summary>
/// <remarks>
/// Nodes answer within moments, so a start waits for answers still out, up to <see cref="ChecksWait"/>
/// after the last check was sent, rather than start small and grow at the next checkpoint.
/// </remarks>
internal sealed class PlacementWatch : ReceiveActor, IWithTimers
{
    public static readonly TimeSpan ChecksWait = TimeSpan.FromSeconds(5);

    private const string ChecksTimer = "checks";

    private readonly ClusterMembership _members;
    private readonly TimeSpan _checksWait;
    // The wait for answers still out is over: a start takes the nodes that answered.
    private bool _checksWaitOver;

    public PlacementWatch(string job, string checkpointDirectory, JobAssemblyRef? jobAssembly, TimeSpan checksWait)
    {
        _checksWait = checksWait;
        _members = new ClusterMembership(checkpointDirectory, jobAssembly);
        Receive<MembersChanged>(changed =>
        {
            var checks = _members.Changed(changed);
            foreach (var (node, check) in checks)
            {
                Context.ActorSelection($"{node}/user/{CheckDirectory.NodeAgentName}").Tell(check);
            }
            if (checks.Count > 0)
            {
                _checksWaitOver = false;
                Timers.StartSingleTimer(ChecksTimer, ChecksWaitOver.Instance, _checksWait);
            }
            TellSupervisor(answersMembersChanged: true);
        });
        Receive<DirectoryChecked>(result =>
        {
            if (!_members.Checked(result))
            {
                return; // from a node that is no longer a member
            }
            if (result.Problem is not null)
            {
                Context.Parent.Tell(new NodeCannotTakeRanks(result.Node, result.Problem));
                Sender.Tell(new NodeDeclined(job, result.Problem));
            }
            TellSupervisor(answersMembersChanged: false);
        });
        Receive<ChecksWaitOver>(_ =>
        {
            _checksWaitOver = true;
            if (_members.PendingChecks > 0)
            {
                TellSupervisor(answersMembersChanged: false);
            }
        });
    }

    public ITimerScheduler Timers { get; set; } = null!;

    /// <param name="checksWait">How long a start waits for answers still out (<see cref="ChecksWait"/> unless a test says).</param>
    public static Props Props(JobSpec spec, TimeSpan? checksWait = null) =>
        Akka.Actor.Props.Create(() => new PlacementWatch(spec.Job, spec.CheckpointDirectory, spec.JobAssembly, checksWait ?? ChecksWait));

    private void TellSupervisor(bool answersMembersChanged) => Context.Parent.Tell(new SlotsChanged(
        _members.UsableSlots(), _members.Members, _members.Draining, AwaitingChecks: _members.PendingChecks > 0 && !_checksWaitOver, answersMembersChanged));

    // An exception no handler expected (the probe file could not be written). Restarted, this watch would
    // forget every node's answer and the supervisor would wait for news that may never come: the job ends
    // instead, as on an unexpected failure of the supervisor itself, which this makes it.
    protected override void PreRestart(Exception reason, object message)
    {
        Context.Parent.Tell(new PlacementFailed(reason));
        Context.Stop(Self);
        base.PreRestart(reason, message);
    }

    private sealed class ChecksWaitOver
    {
        public static readonly ChecksWaitOver Instance = new();
    }
}
