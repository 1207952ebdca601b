using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using Orchestrator.Actors.Gradients;
using Orchestrator.Actors.Job.Checkpoints;
using Orchestrator.Actors.Job.Faults;
using Orchestrator.Actors.Job.Progress;
using Orchestrator.Actors.Job.Ranks;
using Orchestrator.Actors.Job.Steps;
using Orchestrator.Actors.Metrics;
using Orchestrator.Actors.Persistence;
using Orchestrator.Actors.Protocol;
using Orchestrator.Trainer.Checkpointing;
using Orchestrator.Trainer.Distributed;

namespace Orchestrator.Actors.Job;

/// <summary>
/// Owns one job: starts its rank trainers, drives every step (gradients in, average out), runs the
/// checkpoint protocol (barrier, buffer sync, rank 0 saves), decides what a failure means and restarts, and
/// records all of it in its journal. Its phases (<see cref="SupervisorPhase"/>) read top to bottom across
/// the partial files named after them: Start (Idle, WaitingForRanks, Starting), Stepping, Checkpointing,
/// Recovery (AwaitingInFlightWrite, Restarting), Finish. The decisions are made by pure planners
/// (Steps/StepPlan, Restart/RestartPlanner) and the bookkeeping by collaborators (Ranks/RankGroup,
/// Steps/StepBarrier, Checkpoints/CheckpointRound, Progress/JobProgress, Faults/FaultInjection); this class
/// journals and carries out what they decide.
/// </summary>
public sealed partial class JobSupervisor : ReceivePersistentActor, IWithTimers
{
    private const string PhaseTimer = "phase";
    private const string RestartTimer = "restart";
    private const int SnapshotEvery = 50;

    private readonly JobSpec _requested;
    private readonly CheckpointStore _store;
    private readonly ResumeCandidates _candidates;
    private readonly FaultInjection _faults;
    private readonly JobProgress _progress;
    private readonly RankGroup _ranks;
    private readonly Stopwatch _sinceSave = Stopwatch.StartNew();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private JobState _state = JobState.Empty;
    private SupervisorPhase _phase = SupervisorPhase.Idle;
    private JobOutcome? _outcome;
    private IActorRef? _requester;
    private GradientHub? _hub;
    private bool _linksRefused;
    // Every message from a rank carries the generation it was started in; answers of replaced ones are dropped.
    private int _generation;
    private long _step;
    private long _total;
    // The protocol round in progress (start-up, a step, a buffer export or import): who has answered.
    private StepBarrier _barrier = StepBarrier.None;
    private ReplicaDigests _digests = ReplicaDigests.None;
    private bool _stopRequested;
    private long _lastWrittenStep = -1;
    private long _lastCapturedStep = -1;
    // Where a start's time went, on _clock: the journal's replay, then from the request to run to every rank ready.
    private TimeSpan _journalRecovered;
    private TimeSpan _submittedAt;

    public JobSupervisor(JobSpec requested, IActorRef reporter, RankPlacement? placement = null, RankProps? rankProps = null, DiscoveryRunner? discovery = null)
    {
        _requested = requested;
        _ranks = new RankGroup(Context, rankProps ?? RankPropsDefaults.Trainer);
        _placement = placement ?? RankPlacement.Local;
        _runDiscovery = discovery ?? DiscoveryRunners.OnThreadPool;
        _world = requested.Ranks;
        _sizing = new WorldSizing(requested.MinRanks ?? requested.Ranks, requested.MaxRanks ?? requested.Ranks, requested.BatchToDivide());
        _store = new CheckpointStore(requested.CheckpointDirectory, new CheckpointNaming(requested.NameTemplate));
        _candidates = new ResumeCandidates(_store, requested.ResumePath);
        _faults = new FaultInjection(requested.Faults.Select(FaultSpec.Parse).ToList());
        _progress = new JobProgress(reporter, new JobMetrics(requested.Job));
        PersistenceId = PersistenceIdFor(requested.WorkDir);
        Recover<SnapshotOffer>(offer =>
        {
            if (offer.Snapshot is JobState snapshot)
            {
                _state = snapshot;
            }
        });
        Recover<JobEvent>(e => _state = _state.Apply(e));
        Idle();
    }

    public override string PersistenceId { get; }

    protected override void OnReplaySuccess() => _journalRecovered = _clock.Elapsed;

    // Akka.Persistence stops this actor after either; the event stream tells the command why, in one line.
    protected override void OnRecoveryFailure(Exception reason, object? message = null) => JournalFailed.Publish(Context.System, PersistenceId, reason);

    protected override void OnPersistFailure(Exception cause, object @event, long sequenceNr) => JournalFailed.Publish(Context.System, PersistenceId, cause);

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(JobSpec spec, IActorRef reporter, RankPlacement? placement = null, RankProps? rankProps = null, DiscoveryRunner? discovery = null) =>
        Akka.Actor.Props.Create(() => new JobSupervisor(spec, reporter, placement, rankProps, discovery));

    /// <summary>
    /// One journal stream per work dir, so several jobs can share one PostgreSQL database; named by the id
    /// stored in the work dir, so it follows the dir when it moves.
    /// </summary>
    public static string PersistenceIdFor(string workDir) => WorkDirJournalId.Of(workDir);

    private int Ranks => _world;

    // Gradients of ranks on other nodes go over their own TCP connections to this supervisor (see
    // GradientHub), encrypted with the cluster's certificate when Akka.Remote runs TLS, unless the cluster
    // turned the links off: then Akka.Remote carries them.
    private GradientHub? GradientLinks()
    {
        var config = Context.System.Settings.Config;
        if (!config.GetBoolean("orchestrator.cluster.gradient-link", false))
        {
            return null;
        }
        if (_hub is null && !_linksRefused)
        {
            try
            {
                _hub = new GradientHub(Akka.Cluster.Cluster.Get(Context.System).SelfAddress.Host!, Self, GradientLinkTls.FromConfig(config));
            }
            catch (IOException e)
            {
                // Akka.Remote still carries the gradients, encrypted, only slower: the job goes on.
                _linksRefused = true;
                Hosting.OrchestratorLog.Warning(Context, $"job in {_requested.WorkDir}: gradients go through Akka.Remote: {e.Message}");
            }
        }
        return _hub;
    }

    private void KillProcessForFault(long step)
    {
        Hosting.OrchestratorLog.LastWords(Context.System, isError: false, $"injected fault kill-process@step={step}: killing the process");
        Process.GetCurrentProcess().Kill();
    }

    // An exception no handler expected. A restart would replay the journal into a fresh, idle supervisor that
    // nobody asked to run: the asker (train, or the cluster's coordinator) would wait for an answer that never
    // comes, and a cluster job would keep its work dir for nothing. So the job ends: the asker hears why in one
    // line, and this supervisor stops instead of coming back. Its ranks stop with it, as on any stop (a save in
    // flight is abandoned, never a committed checkpoint, and the next start removes it), and the journal holds
    // exactly the events it committed, so a rerun resumes from the newest checkpoint.
    protected override void PreRestart(Exception reason, object message)
    {
        _requester?.Tell(SupervisorFailure.Finished(_requested, _store, _step, reason));
        _requester = null;
        Context.Stop(Self);
        base.PreRestart(reason, message);
    }

    protected override void PostStop()
    {
        _discovery?.Cancel();
        _hub?.Dispose();
        _progress.Dispose();
        base.PostStop();
    }

    // ---- Shared by every phase -------------------------------------------------------------------------

    private void Common(Action<CheckpointWritten>? onWritten = null)
    {
        Command<CheckpointWritten>(written => Committed(written, onWritten));
        Command<RankWorkFailed>(failed => failed.Generation == _generation, RankWorkFailed);
        Command<PhaseTimedOut>(timedOut => timedOut.Generation == _generation && _barrier.IsWaiting, timedOut =>
        {
            foreach (var published in _ranks.SharedGradientsPublished(_stepInFlight))
            {
                _barrier.GradientsFrom(published); // ranks in one process tell their gradients to each other, not here
            }
            var rank = _barrier.HungRank();
            Fail(rank, $"rank {rank} did not answer within {timedOut.After.TotalSeconds:0.#} s during {timedOut.Phase} (hung)");
        });
        Command<StopJob>(_ => StopRequested());
        Command<Terminated>(terminated => _ranks.IndexOf(terminated.ActorRef) is var rank && rank >= 0 && _phase.RanksRun(), terminated =>
        {
            var rank = _ranks.IndexOf(terminated.ActorRef);
            Fail(rank, terminated.AddressTerminated
                ? $"node {_placedOn[rank].Node} holding rank {rank} left the cluster"
                : $"rank {rank} stopped unexpectedly");
        });
        // A rank that ended while no rank is expected to run (stopped ranks are unwatched first): nothing to do.
        Command<Terminated>(_ => { });
        PlacementNews(afterSlotsChanged: ReactToPlacement);
        Command<GetJobStatus>(_ => Sender.Tell(LiveStatus()));
        Command<SaveSnapshotSuccess>(_ => { });
        Command<SaveSnapshotFailure>(failure => Note($"journal snapshot failed: {failure.Cause.Message}"));
        DropStale();
    }

    /// <summary>
    /// Answers of replaced ranks and timers of earlier generations are expected after every failure, restart
    /// and resize: they are dropped here, on purpose. Anything else no phase handles goes to Unhandled.
    /// </summary>
    private void DropStale()
    {
        Command<RankReady>(m => m.Generation != _generation, _ => { });
        Command<GradientChunk>(m => m.Generation != _generation, _ => { });
        Command<StepApplied>(m => m.Generation != _generation, _ => { });
        Command<StepsApplied>(m => m.Generation != _generation, _ => { });
        Command<BuffersExported>(m => m.Generation != _generation, _ => { });
        Command<BuffersImported>(m => m.Generation != _generation, _ => { });
        Command<CheckpointCaptured>(m => m.Generation != _generation, _ => { });
        Command<RankWorkFailed>(m => m.Generation != _generation, _ => { });
        Command<PhaseTimedOut>(m => m.Generation != _generation, _ => { });
        Command<RestartNow>(m => m.Generation != _generation, _ => { });
        Command<InFlightWriteWaitOver>(m => m.Generation != _generation, _ => { });
        Command<Discovered>(m => m.Round != _discoveryRound, _ => { });
        Command<DiscoveryFailed>(m => m.Round != _discoveryRound, _ => { });
    }

    // A message of the current generation that the phase has no use for: not an error, only worth a debug line.
    // (The base would log it as a dead letter, at info.)
    protected override void Unhandled(object message) =>
        _log.Debug("job in {0}: {1} not handled while {2}", _requested.WorkDir, message.GetType().Name, _phase);

    /// <summary>Switches to <paramref name="phase"/> and its handlers; a stop already asked for may end it at once.</summary>
    private void Enter(SupervisorPhase phase, Action behaviour)
    {
        _phase = phase;
        Become(behaviour);
        if (_stopRequested && phase.StopsWithoutSave())
        {
            StopWithoutSave();
        }
    }

    /// <summary>One round every rank must answer: its barrier, and the time it has to.</summary>
    private void BeginRound(StepBarrier barrier, TimeSpan timeout, string during)
    {
        _barrier = barrier;
        Timers.StartSingleTimer(PhaseTimer, new PhaseTimedOut(_generation, during, timeout), timeout);
    }

    private bool Arrived(int rank)
    {
        if (!_barrier.Arrive(rank))
        {
            return false;
        }
        Timers.Cancel(PhaseTimer);
        return true;
    }

    private JobLiveStatus LiveStatus() => new(
        _requested.Job, _requested.WorkDir, _phase.StatusText(_outcome), _why, _step, _total, _progress.LastLoss, _ranks.Count == 0 ? 0 : _world,
        _placedOn.Take(_ranks.Count).Select(s => s.Node ?? "local").ToArray(), _state.LastCheckpoint?.Name, _state.Restarts.Length,
        _state.LastCheckpoint?.At);

    private void Record(JobEvent e, Action then) => Persist(e, persisted =>
    {
        _state = _state.Apply(persisted);
        if (LastSequenceNr % SnapshotEvery == 0)
        {
            SaveSnapshot(_state);
        }
        then();
    });

    private void Note(string message) => _progress.Note(message);

    private static DateTimeOffset Now => DateTimeOffset.UtcNow;

    private sealed record PhaseTimedOut(int Generation, string Phase, TimeSpan After);

    private sealed record RestartNow(int Generation, int[] Recreate, string? FromCheckpoint);

    private sealed record InFlightWriteWaitOver(int Generation);
}
