using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using Akka.Persistence;
using Orchestrator.Actors.Job;
using Orchestrator.Actors.Persistence;
using Orchestrator.Actors.Protocol;

namespace Orchestrator.Actors.Cluster;

/// <summary>
/// The cluster's one job coordinator, run as a cluster singleton. It lets nodes in (secret and settings
/// checked, devices learned), keeps the list of nodes that may hold ranks, runs a supervisor per submitted
/// job and tells each one when that list changes. Its journal names the unfinished jobs, so wherever it
/// starts again it continues them.
/// </summary>
public sealed class ClusterCoordinator : ReceivePersistentActor, IWithTimers
{
    public const string PersistenceIdValue = "orchestrator-coordinator";

    private readonly IActorRef _reporter;
    private readonly ClusterCredentials _credentials;
    private readonly Akka.Cluster.Cluster _cluster = Akka.Cluster.Cluster.Get(Context.System);
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<string, JobSpec> _active = [];
    private readonly Dictionary<string, ClusterJobEnded> _ended = [];
    private readonly Dictionary<string, IActorRef> _supervisors = [];
    private readonly Dictionary<Address, string> _challenges = [];
    private readonly Dictionary<Address, NodeInfo> _verified = [];
    private readonly Dictionary<Address, string> _refused = [];
    private readonly HashSet<Address> _unreachable = [];
    private readonly HashSet<Address> _draining = [];
    // The work dirs of running jobs, each locked by this node while its job runs.
    private readonly Dictionary<string, WorkDirLock> _owners = [];
    private static readonly TimeSpan OwnershipRetry = TimeSpan.FromSeconds(5);
    private int _started;
    private ImmutableSortedSet<Member> _members = ImmutableSortedSet<Member>.Empty;

    public ClusterCoordinator(IActorRef reporter, ClusterCredentials credentials)
    {
        _reporter = reporter;
        _credentials = credentials;
        Recover<ClusterJobSubmitted>(e =>
        {
            _active[e.Spec.WorkDir] = e.Spec;
            _ended.Remove(e.Spec.WorkDir);
        });
        Recover<ClusterJobEnded>(Ended);
        Recover<RecoveryCompleted>(_ =>
        {
            foreach (var spec in _active.Values)
            {
                Note($"continuing job {spec.Job} in {spec.WorkDir} (recovered from the journal)");
                StartSupervisor(spec);
            }
        });
        Membership();
        Jobs();
    }

    public override string PersistenceId => PersistenceIdValue;

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(IActorRef reporter, ClusterCredentials credentials) =>
        Akka.Actor.Props.Create(() => new ClusterCoordinator(reporter, credentials));

    protected override void PreStart()
    {
        _cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents,
            typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.IReachabilityEvent));
        base.PreStart();
    }

    protected override void PostStop()
    {
        foreach (var owner in _owners.Values)
        {
            owner.Dispose();
        }
        _owners.Clear();
        _cluster.Unsubscribe(Self);
        base.PostStop();
    }

    // ---- Membership: who may hold ranks ------------------------------------------------------------------

    private void Membership()
    {
        Command<ClusterEvent.MemberRemoved>(removed => Forget(removed.Member));
        Command<ClusterEvent.MemberExited>(exited => Forget(exited.Member));
        // Every other member event (the initial state included) may be the first sight of an Up member.
        Command<ClusterEvent.IMemberEvent>(e =>
        {
            _members = _members.Remove(e.Member).Add(e.Member);
            if (e.Member.Status == MemberStatus.Up && !_verified.ContainsKey(e.Member.Address) && !_refused.ContainsKey(e.Member.Address)
                && !_challenges.ContainsKey(e.Member.Address))
            {
                var nonce = ClusterCredentials.NewNonce();
                _challenges[e.Member.Address] = nonce;
                Context.ActorSelection(new RootActorPath(e.Member.Address) / "user" / NodeAgent.Name).Tell(new Challenge(nonce));
            }
        });
        Command<ChallengeAnswer>(answer =>
        {
            // The agent on this very node answers with a local path, which has no host and port.
            var address = Sender.Path.Address.HasLocalScope ? _cluster.SelfAddress : Sender.Path.Address;
            if (!_challenges.Remove(address, out var nonce))
            {
                return;
            }
            if (_credentials.Problem(nonce, answer) is { } problem)
            {
                _refused[address] = problem;
                _log.Warning("refused node {0}: {1}", address, problem);
                Note($"refused node {HostPort(address)}: {problem}");
                Sender.Tell(new NodeRefused(problem));
                _cluster.Down(address);
                return;
            }
            _verified[address] = new NodeInfo(address.ToString(), answer.Devices, answer.JoinedBy);
            Note($"node {HostPort(address)} joined with {answer.Devices.Length} device(s): {string.Join(",", answer.Devices)}");
            Publish();
        });
        Command<ClusterEvent.UnreachableMember>(u =>
        {
            _unreachable.Add(u.Member.Address);
            if (_verified.ContainsKey(u.Member.Address))
            {
                Note($"node {HostPort(u.Member.Address)} is unreachable");
                Publish();
            }
        });
        Command<ClusterEvent.ReachableMember>(r =>
        {
            if (_unreachable.Remove(r.Member.Address) && _verified.ContainsKey(r.Member.Address))
            {
                Note($"node {HostPort(r.Member.Address)} is reachable again");
                Publish();
            }
        });
        Command<ClusterEvent.IReachabilityEvent>(_ => { });
    }

    private void Forget(Member member)
    {
        _members = _members.Remove(member);
        _challenges.Remove(member.Address);
        _unreachable.Remove(member.Address);
        _draining.Remove(member.Address);
        if (_verified.Remove(member.Address))
        {
            Note($"node {HostPort(member.Address)} left the cluster");
            Publish();
        }
    }

    private NodeInfo[] Usable() => _verified
        .Where(v => !_unreachable.Contains(v.Key) && !_draining.Contains(v.Key))
        .Select(v => v.Value)
        .OrderBy(n => n.Address, StringComparer.Ordinal)
        .ToArray();

    private void Ended(ClusterJobEnded e)
    {
        _active.Remove(e.WorkDir);
        _ended[e.WorkDir] = e;
    }

    private void Publish()
    {
        var changed = new MembersChanged(Usable(), _draining.Select(a => a.ToString()).ToArray());
        foreach (var supervisor in _supervisors.Values)
        {
            supervisor.Tell(changed);
        }
    }

    // ---- Jobs ----------------------------------------------------------------------------------------------

    private void Jobs()
    {
        Command<SubmitJob>(submit =>
        {
            if (submit.Protocol != WireProtocol.Version)
            {
                var theirs = submit.Protocol == 0 ? null : submit.Protocol.ToString(System.Globalization.CultureInfo.InvariantCulture);
                Sender.Tell(new SubmitAnswer(false, WireProtocol.Mismatch("the submitting orchestrator", theirs)));
                return;
            }
            if (_credentials.Prove(submit.Spec.WorkDir) != submit.Proof)
            {
                Sender.Tell(new SubmitAnswer(false, "the client's cluster secret does not match (use the same --secret-file as the nodes)"));
                return;
            }
            if (_supervisors.ContainsKey(submit.Spec.WorkDir) && _active.ContainsKey(submit.Spec.WorkDir))
            {
                Sender.Tell(new SubmitAnswer(false, $"a job is already running in {submit.Spec.WorkDir} (orchestrator status --cluster ... shows it)"));
                return;
            }
            if (Own(submit.Spec) is { } refusal)
            {
                Sender.Tell(new SubmitAnswer(false, refusal));
                return;
            }
            var sender = Sender;
            Persist(new ClusterJobSubmitted(submit.Spec, DateTimeOffset.UtcNow), e =>
            {
                _active[e.Spec.WorkDir] = e.Spec;
                _ended.Remove(e.Spec.WorkDir);
                StartSupervisor(e.Spec);
                sender.Tell(new SubmitAnswer(true, $"job {e.Spec.Job} submitted in {e.Spec.WorkDir}; {Usable().Sum(n => n.Devices.Length)} device(s) available on {Usable().Length} node(s)"));
            });
        });
        Command<JobFinished>(finished =>
        {
            var workDir = _supervisors.FirstOrDefault(s => s.Value.Equals(Sender)).Key;
            if (workDir is null)
            {
                return;
            }
            Persist(new ClusterJobEnded(workDir, finished.Outcome.ToString().ToLowerInvariant(), DateTimeOffset.UtcNow), ended =>
            {
                Ended(ended);
                _owners.Remove(workDir, out var owner);
                owner?.Dispose(); // the work dir is free once the end is recorded, and before it is announced
                Note($"job in {workDir} ended: {finished.Outcome.ToString().ToLowerInvariant()} at step {finished.Step}: {finished.Message}");
            });
        });
        Command<OwnWorkDirAgain>(again => _active.ContainsKey(again.WorkDir) && !_supervisors.ContainsKey(again.WorkDir), again => StartSupervisor(_active[again.WorkDir]));
        Command<OwnWorkDirAgain>(_ => { });
        Command<StopClusterJob>(stop =>
        {
            if (_credentials.Prove(stop.WorkDir) != stop.Proof)
            {
                Sender.Tell(new ClusterCommandAnswer(false, "the client's cluster secret does not match"));
            }
            else if (_supervisors.TryGetValue(stop.WorkDir, out var supervisor) && _active.ContainsKey(stop.WorkDir))
            {
                supervisor.Tell(StopJob.Instance);
                Sender.Tell(new ClusterCommandAnswer(true, $"stopping the job in {stop.WorkDir} with a final checkpoint"));
            }
            else
            {
                Sender.Tell(new ClusterCommandAnswer(false, $"no running job in {stop.WorkDir}"));
            }
        });
        Command<DrainNode>(drain =>
        {
            var node = _verified.Keys.FirstOrDefault(a => HostPort(a) == drain.HostPort);
            if (_credentials.Prove(drain.HostPort) != drain.Proof)
            {
                Sender.Tell(new ClusterCommandAnswer(false, "the client's cluster secret does not match"));
            }
            else if (node is null)
            {
                Sender.Tell(new ClusterCommandAnswer(false, $"no node {drain.HostPort} in the cluster (status --cluster lists them)"));
            }
            else
            {
                _draining.Add(node);
                Note($"draining node {drain.HostPort}: its ranks move off at a checkpoint");
                Publish();
                Sender.Tell(new ClusterCommandAnswer(true, $"draining {drain.HostPort}: jobs checkpoint and continue without it; remove the node once status shows no ranks on it"));
            }
        });
        Command<GetClusterStatus>(ask =>
        {
            if (!_credentials.Proves(GetClusterStatus.ProofSubject, ask.Proof))
            {
                Sender.Tell(new ClusterStatusRefused("the client's cluster secret does not match (give status the nodes' --secret-file or ORCHESTRATOR_SECRET)"));
                return;
            }
            var nodes = _members.Select(m => new NodeStatus(
                m.Address.ToString(),
                NodeState(m),
                _verified.TryGetValue(m.Address, out var info) ? info.Devices : [],
                _refused.GetValueOrDefault(m.Address),
                info?.JoinedBy)).ToArray();
            var ended = _ended.Values.Where(e => !_supervisors.ContainsKey(e.WorkDir))
                .Select(e => new JobLiveStatus("", e.WorkDir, e.Outcome, null, 0, 0, double.NaN, 0, [], null, 0)).ToArray();
            var asks = _supervisors.Values.Select(s => s.Ask<JobLiveStatus>(GetJobStatus.Instance, TimeSpan.FromSeconds(5))).ToList();
            Task.WhenAll(asks).ContinueWith(
                _ => new ClusterStatus(nodes, [.. asks.Where(a => a.IsCompletedSuccessfully).Select(a => a.Result), .. ended], WireProtocol.Version, _credentials.IsOpen),
                TaskScheduler.Default).PipeTo(Sender);
        });
        Command<SaveSnapshotSuccess>(_ => { });
    }

    private string NodeState(Member member) =>
        _refused.ContainsKey(member.Address) ? "refused"
        : _unreachable.Contains(member.Address) ? "unreachable"
        : _draining.Contains(member.Address) ? "draining"
        : member.Status != MemberStatus.Up ? member.Status.ToString().ToLowerInvariant()
        : _verified.ContainsKey(member.Address) ? "up" : "joining";

    private void StartSupervisor(JobSpec spec)
    {
        if (_supervisors.Remove(spec.WorkDir, out var previous))
        {
            Context.Stop(previous); // it finished; a resubmission continues the job under a fresh supervisor
        }
        if (Own(spec) is { } refusal)
        {
            // Recovered here while another process still holds the work dir (a local train, or the previous
            // coordinator's node not yet gone): continue once it lets go, never beside it.
            Note($"job {spec.Job} in {spec.WorkDir} waits: {refusal}");
            Timers.StartSingleTimer($"own {spec.WorkDir}", new OwnWorkDirAgain(spec.WorkDir), OwnershipRetry);
            return;
        }
        var name = $"{JobSupervisor.PersistenceIdFor(spec.WorkDir)}-{++_started}";
        var placement = RankPlacement.Cluster(_cluster.SelfAddress.ToString());
        var supervisor = Context.ActorOf(JobSupervisor.Props(spec, _reporter, placement), name);
        _supervisors[spec.WorkDir] = supervisor;
        supervisor.Tell(new MembersChanged(Usable(), _draining.Select(a => a.ToString()).ToArray()));
        supervisor.Tell(RunJob.Instance);
    }

    /// <summary>
    /// The node that runs a job's supervisor owns its work dir (the shared file system's flock) while the job
    /// runs, so a local train there is refused naming the cluster; null when owned, else why not.
    /// </summary>
    private string? Own(JobSpec spec)
    {
        if (_owners.ContainsKey(spec.WorkDir))
        {
            return null;
        }
        try
        {
            var owner = WorkDirLock.TryAcquire(spec.WorkDir, WorkDirLock.ThisProcess($"a cluster job of coordinator {_cluster.SelfAddress}"));
            if (owner is null)
            {
                return WorkDirLock.Refusal(spec.WorkDir, "a cluster job");
            }
            try
            {
                WorkDirJournalId.Establish(spec.WorkDir, spec.CheckpointDirectory); // the supervisor's journal name
            }
            catch
            {
                owner.Dispose();
                throw;
            }
            _owners[spec.WorkDir] = owner;
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return $"the coordinator's node cannot lock work dir {spec.WorkDir}: {e.Message}";
        }
    }

    private void Note(string message) => _reporter.Tell(new ProgressNote(message));

    private static string HostPort(Address address) => $"{address.Host}:{address.Port}";

    private sealed record OwnWorkDirAgain(string WorkDir);
}
