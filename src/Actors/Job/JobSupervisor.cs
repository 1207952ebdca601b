using System.Diagnostics;
using Akka.Actor;
using Akka.Persistence;
using Orchestrator.Actors.Cluster;
using Orchestrator.Actors.Gradients;
using Orchestrator.Actors.Metrics;
using Orchestrator.Actors.Persistence;
using Orchestrator.Actors.Protocol;
using Orchestrator.Trainer.Checkpointing;
using Orchestrator.Trainer.Distributed;
using Orchestrator.Trainer.Jobs;
using Orchestrator.Trainer.Metrics;
using Orchestrator.Trainer.Runtime;
using Orchestrator.Trainer.Training;

namespace Orchestrator.Actors.Job;

/// <summary>
/// Owns one job: starts its rank trainers, drives every step (gradients in, average out), runs the
/// checkpoint protocol (barrier, buffer sync, rank 0 saves), decides what a failure means and restarts, and
/// records all of it in its journal. The protocol below reads top to bottom: Idle, Starting, Stepping,
/// Checkpointing, Restarting, Done.
/// </summary>
public sealed class JobSupervisor : ReceivePersistentActor, IWithTimers
{
    private const string PhaseTimer = "phase";
    private const string RestartTimer = "restart";
    private const int SnapshotEvery = 50;
    private const int MaxRunAhead = 64;

    private readonly JobSpec _requested;
    private readonly IActorRef _reporter;
    private readonly CheckpointStore _store;
    private readonly ResumeCandidates _candidates;
    private readonly IReadOnlyList<FaultSpec> _faults;
    private readonly JobMetrics _metrics;
    private TensorBoardGuard? _tensorBoard;
    private readonly Dictionary<long, double> _lossAtStep = [];
    private readonly Stopwatch _sinceSave = Stopwatch.StartNew();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private JobState _state = JobState.Empty;
    private IActorRef? _requester;
    private IActorRef[] _ranks = [];
    // The gradient link of each rank on another node (null: the rank is here, or links are off).
    private string?[] _linkIds = [];
    private GradientHub? _hub;
    private bool _linksRefused;
    private int _generation;
    private long _step;
    private long _total;
    private HashSet<int> _waiting = [];
    private HashSet<int> _gradientsFrom = [];
    // From the first gradient chunk of a step to its last average sent: the step's gradient synchronisation.
    private TimeSpan _syncStartedAt;
    private int _averagedChunks;
    // The ranks' mean loss, taken when a step's last average leaves: its reduction may by then serve the next step.
    private double _syncedLoss = double.NaN;
    // A step whose successor started on its last average (see StartNextOnAverage), and the ranks yet to apply it.
    private long _applyingStep = -1;
    private HashSet<int> _applying = [];
    private GradientReduction? _reduction;
    private float[]?[] _buffers = [];
    private string?[] _digests = [];
    private bool _stopRequested;
    // A rank's job asked for a checkpoint (TrainingJob.RequestSave): taken at the next step end decided here.
    private bool _saveRequested;
    private bool _stepping;
    private bool _announced;
    private string? _startedFrom;
    private IReadOnlyList<string> _skipped = [];
    private TimeSpan _lastStepAt;
    private TimeSpan _stepDuration;
    private long _runThrough;
    private long _lastWrittenStep = -1;
    private double _lastLoss = double.NaN;
    private long _lastCapturedStep = -1;
    private readonly RankPlacement _placement;
    private readonly RankProps _rankProps;
    private readonly WorldSizing _sizing;
    private int _world;
    private RankSlot[] _placedOn = [];
    private NodeInfo[] _nodes = [];
    private string[] _draining = [];
    private readonly Dictionary<string, string?> _directoryChecks = [];
    private (string Path, string Token)? _probe;
    private bool _resizePending;
    private string _phase = "idle";
    private string? _why;
    private TimeSpan _checksDeadline;
    // Where a start's time went, on _clock: the journal's replay, then from the request to run to every rank ready.
    private TimeSpan _journalRecovered;
    private TimeSpan _submittedAt;
    private static readonly TimeSpan DirectoryCheckWait = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan RunAheadWindow = TimeSpan.FromMilliseconds(50);

    public JobSupervisor(JobSpec requested, IActorRef reporter, RankPlacement? placement = null, RankProps? rankProps = null)
    {
        _requested = requested;
        _rankProps = rankProps ?? RankPropsDefaults.Trainer;
        _reporter = reporter;
        _placement = placement ?? RankPlacement.Local;
        _world = requested.Ranks;
        _sizing = new WorldSizing(requested.MinRanks ?? requested.Ranks, requested.MaxRanks ?? requested.Ranks, requested.BatchToDivide());
        _store = new CheckpointStore(requested.CheckpointDirectory, new CheckpointNaming(requested.NameTemplate));
        _candidates = new ResumeCandidates(_store, requested.ResumePath);
        _faults = requested.Faults.Select(FaultSpec.Parse).ToList();
        _metrics = new JobMetrics(requested.Job);
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

    public static Props Props(JobSpec spec, IActorRef reporter, RankPlacement? placement = null, RankProps? rankProps = null) =>
        Akka.Actor.Props.Create(() => new JobSupervisor(spec, reporter, placement, rankProps));

    /// <summary>
    /// One journal stream per work dir, so several jobs can share one PostgreSQL database; named by the id
    /// stored in the work dir, so it follows the dir when it moves.
    /// </summary>
    public static string PersistenceIdFor(string workDir) => WorkDirJournalId.Of(workDir);

    private int Ranks => _world;

    // ---- Idle: waiting to be told to run -------------------------------------------------------------

    private void Idle()
    {
        Command<RunJob>(_ =>
        {
            _requester = Sender;
            Submit();
        });
        Command<StopJob>(_ => _stopRequested = true);
        Command<MembersChanged>(changed => Membership(changed));
        Command<DirectoryChecked>(DirectoryResult);
        Command<GetJobStatus>(_ => Sender.Tell(LiveStatus()));
        Command<SaveSnapshotSuccess>(_ => { });
        Command<SaveSnapshotFailure>(_ => { });
    }

    private void Submit()
    {
        _submittedAt = _clock.Elapsed;
        if (_state.Spec is null)
        {
            StartFromDisk(); // records the submission only once the start is chosen: a refused one records nothing
        }
        else if (_state.Spec.Job != _requested.Job)
        {
            Finish(JobOutcome.Refused, $"work dir {_requested.WorkDir} holds job '{_state.Spec.Job}', not '{_requested.Job}'; use another work dir");
        }
        else if (JobIdentity.Problem(_state.Spec, _requested) is { } problem)
        {
            Finish(JobOutcome.Refused, problem);
        }
        else if (JobIdentity.CodeChanged(_state.Spec, _requested))
        {
            Note($"job code changed: {_state.Spec.JobAssembly?.Sha256 ?? "built in"} -> {_requested.JobAssembly!.Sha256}, resuming from {_requested.ResumePath}");
            Record(new JobCodeChanged(_requested.JobAssembly!, _requested.ResumePath!, Now), Submit);
        }
        else if (_state.Spec.Steps != _requested.Steps || _state.Spec.Epochs != _requested.Epochs)
        {
            Record(new JobExtended(_requested.Steps, _requested.Epochs, Now), StartFromDisk);
        }
        else
        {
            StartFromDisk();
        }
    }

    private void StartFromDisk()
    {
        try
        {
            ChooseStartAndStartRanks();
        }
        catch (Exception e) when (e is CorruptCheckpointException or CheckpointMismatchException or ArgumentException)
        {
            Finish(JobOutcome.Refused, e.Message);
        }
    }

    private void ChooseStartAndStartRanks()
    {
        var removed = _store.RemoveAbandonedSaves();
        if (removed > 0)
        {
            Note($"removed {removed} unfinished save folder(s) left by an interrupted run");
        }
        string? resumeFrom;
        LoadedCheckpoint? committedBeforeTheEnd = null;
        if (_requested.ResumePath is not null)
        {
            var named = _store.LoadInfo(_requested.ResumePath);
            if (JobIdentity.CheckpointProblem(named, _requested) is { } problem)
            {
                Finish(JobOutcome.Refused, problem); // before anything is recorded, so the right command still runs
                return;
            }
            resumeFrom = named.Path;
        }
        else if (_requested.FreshStart && _store.List().Count > 0)
        {
            Finish(JobOutcome.Refused, $"work dir {_requested.WorkDir} already has checkpoints; use --resume auto to continue, or --delete-existing to start over");
            return;
        }
        else
        {
            var (latest, skipped) = _candidates.Latest();
            foreach (var line in skipped)
            {
                Note($"skipping invalid checkpoint: {line}");
            }
            _skipped = skipped;
            resumeFrom = latest?.Path;
            if (latest is not null && JobIdentity.CheckpointProblem(latest, _requested) is { } problem)
            {
                Finish(JobOutcome.Refused, problem); // before anything is recorded, so the right command still runs
                return;
            }
            if (latest is not null && (_state.LastCheckpoint?.Step ?? -1) < latest.Info.Iteration)
            {
                committedBeforeTheEnd = latest;
            }
        }
        if (resumeFrom is not null && _requested.LoadFrom is not null)
        {
            Note($"--load-from ignored: resuming from {Path.GetFileName(resumeFrom)} in the work dir");
        }
        _startedFrom = resumeFrom;
        var start = new StartRank(0, resumeFrom, resumeFrom is null ? _requested.LoadFrom : null, _requested.SkipOptimizerState, _requested.SkipSchedulerState);
        _generation = _state.Generation + 1;
        RecordSubmissionThen(() =>
        {
            if (committedBeforeTheEnd is not null)
            {
                RecordCommittedBeforeTheProcessEnded(committedBeforeTheEnd);
            }
            StartAll(start);
        });
    }

    // A new journal record starts with its submission, so what the start found on disk is recorded after it.
    private void RecordSubmissionThen(Action then)
    {
        if (_state.Spec is null)
        {
            Record(new JobSubmitted(_requested, Now), then);
        }
        else
        {
            then();
        }
    }

    /// <summary>
    /// The last process ended between a checkpoint's commit on disk and its journal record. The resume starts
    /// from it, so the history names it too; its loss was only in the dead process.
    /// </summary>
    private void RecordCommittedBeforeTheProcessEnded(LoadedCheckpoint checkpoint)
    {
        Note($"{checkpoint.Name} was committed but not yet in the journal when the last run ended; recorded now");
        Record(new CheckpointCommitted(checkpoint.Info.Iteration, checkpoint.Name, checkpoint.Path, checkpoint.Info.WeightsSha256, double.NaN, checkpoint.Info.Reason, checkpoint.Info.CreatedUtc), () => { });
    }

    // ---- Placement: how many ranks, on which nodes (waits on a cluster until enough devices are there) ----

    private void StartAll(StartRank start)
    {
        // Nodes still answering the directory check may add ranks: wait a moment rather than start small and grow.
        var pending = _nodes.Count(n => !_directoryChecks.ContainsKey(n.Address));
        if (_placement.IsCluster && pending > 0 && _clock.Elapsed < _checksDeadline)
        {
            _phase = "waiting";
            _ranks = [];
            Timers.StartSingleTimer(PhaseTimer, new RetryPlacement(_generation), _checksDeadline - _clock.Elapsed);
            Enter(() => WaitingForRanks(start));
            return;
        }
        var slots = UsableSlots();
        if (_sizing.SizeFor(slots.Count) is not { } world || !_placement.IsCluster && slots.Count < _requested.Ranks)
        {
            var why = _sizing.WhyNot(slots.Count);
            if (why != _why)
            {
                Note(why);
            }
            _why = why;
            _phase = "waiting";
            _ranks = [];
            Enter(() => WaitingForRanks(start));
            return;
        }
        _why = null;
        _world = _placement.IsCluster ? world : _requested.Ranks;
        _placedOn = slots.Take(_world).ToArray();
        _ranks = new IActorRef[_world];
        _linkIds = new string?[_world];
        StartRanks(Enumerable.Range(0, _world).ToList(), start, reloadOthersFrom: null);
    }

    private void WaitingForRanks(StartRank start)
    {
        Command<RetryPlacement>(retry => retry.Generation == _generation, _ => StartAll(start));
        Command<MembersChanged>(changed =>
        {
            Membership(changed);
            StartAll(start);
        });
        Command<DirectoryChecked>(checkedDirectory =>
        {
            DirectoryResult(checkedDirectory);
            StartAll(start);
        });
        Common();
    }

    private bool HoldsDrainingNode => _placedOn.Any(slot => _draining.Contains(slot.Node));

    private List<RankSlot> UsableSlots() => _placement.IsCluster
        ? _nodes.Where(n => _directoryChecks.TryGetValue(n.Address, out var problem) && problem is null)
            .SelectMany(n => n.Devices.Select(device => new RankSlot(n.Address, device))).ToList()
        : Enumerable.Repeat(new RankSlot(null, _requested.JobOptions.Device), _requested.Ranks).ToList();

    private void Membership(MembersChanged changed)
    {
        _nodes = changed.Nodes;
        _draining = changed.Draining;
        foreach (var gone in _directoryChecks.Keys.Where(node => _nodes.All(n => n.Address != node)).ToList())
        {
            _directoryChecks.Remove(gone); // checked again if it comes back
        }
        foreach (var node in _nodes.Where(n => !_directoryChecks.ContainsKey(n.Address)))
        {
            _checksDeadline = _clock.Elapsed + DirectoryCheckWait;
            _probe ??= SharedDirectory.WriteProbe(_requested.CheckpointDirectory);
            Context.ActorSelection($"{node.Address}/user/{NodeAgent.Name}").Tell(new CheckDirectory(_requested.CheckpointDirectory, _probe.Value.Path, _probe.Value.Token, _requested.JobAssembly));
        }
        ReactToPlacement();
    }

    private void DirectoryResult(DirectoryChecked result)
    {
        if (_nodes.All(n => n.Address != result.Node))
        {
            return;
        }
        _directoryChecks[result.Node] = result.Problem;
        if (result.Problem is not null)
        {
            Note($"node {result.Node} cannot take ranks: {result.Problem}");
            Sender.Tell(new NodeDeclined(_requested.Job, result.Problem));
        }
        ReactToPlacement();
    }

    /// <summary>While ranks run: a lost node fails its ranks now; a drained node or a new one resizes the job at a checkpoint.</summary>
    private void ReactToPlacement()
    {
        if (!_placement.IsCluster || _ranks.Length == 0 || _phase is not ("starting" or "training"))
        {
            return;
        }
        var usable = UsableSlots();
        for (var rank = 0; rank < _placedOn.Length; rank++)
        {
            var node = _placedOn[rank].Node;
            if (_draining.Contains(node))
            {
                _resizePending = true;
            }
            else if (_nodes.All(n => n.Address != node))
            {
                Fail(rank, $"node {node} holding rank {rank} is unreachable or left the cluster");
                return;
            }
        }
        if (_sizing.SizeFor(usable.Count) is { } size && size > _world)
        {
            _resizePending = true;
        }
    }

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
        _hub?.Dispose();
        _tensorBoard?.Dispose();
        base.PostStop();
    }

    // ---- Starting: ranks build their replicas and restore ---------------------------------------------

    private void StartRanks(IReadOnlyList<int> create, StartRank start, string? reloadOthersFrom)
    {
        _phase = "starting";
        foreach (var rank in create)
        {
            var slot = _placedOn[rank];
            var spec = new RankSpec(_requested.Job, _requested.JobOptions with { Device = slot.Device }, rank, Ranks, _requested.Threads, _requested.CheckpointDirectory, _requested.NameTemplate, _requested.Keep)
            {
                ModelLoad = _requested.ModelLoad,
                JobAssembly = _requested.JobAssembly,
                JobArgs = _requested.JobArgs,
            };
            var name = $"rank-{rank}-g{_generation}";
            var deploy = _placement.DeployFor(slot);
            var link = deploy.Scope is RemoteScope && GradientLinks() is { } hub ? hub.AddressFor(name) : null;
            _linkIds[rank] = link?.LinkId;
            _ranks[rank] = Context.ActorOf(_rankProps(spec, Self, link).WithDeploy(deploy), name);
            // A rank on another node ends when that node dies: the watch turns that into a rank failure.
            Context.Watch(_ranks[rank]);
            _ranks[rank].Tell(start with { Generation = _generation });
        }
        foreach (var rank in Enumerable.Range(0, Ranks).Except(create))
        {
            _ranks[rank].Tell(new ReloadCheckpoint(_generation, reloadOthersFrom!));
        }
        _waiting = Enumerable.Range(0, Ranks).ToHashSet();
        _gradientsFrom = Enumerable.Range(0, Ranks).ToHashSet();
        _digests = new string?[Ranks];
        ArmTimeout(TimeSpan.FromTicks(_requested.StepTimeout.Ticks * 5), "start");
        Enter(Starting);
    }

    private void Starting()
    {
        Command<RankReady>(ready => ready.Generation == _generation, ready =>
        {
            // Every replica restores the same checkpoint; rank 0 speaks for them.
            foreach (var note in ready.Rank == 0 ? ready.Notes : [])
            {
                Note(note);
            }
            _digests[ready.Rank] = ready.WeightsSha256;
            _step = ready.Step;
            _total = _requested.Steps ?? checked(_requested.Epochs!.Value * ready.BatchesPerEpoch);
            if (!Arrived(ready.Rank))
            {
                return;
            }
            if (DivergedRank() is { } diverged)
            {
                Fail(diverged, $"replica of rank {diverged} does not match rank 0 after start");
                return;
            }
            if (!_announced)
            {
                _announced = true;
                // Written here, in step with training, so every step before a kill is on disk before the next starts.
                _tensorBoard = new TensorBoardGuard(_requested.WorkDir, _step, Note);
                _reporter.Tell(new ProgressStarted(new RunStart(_requested.Job, _step, _total, _startedFrom, _skipped),
                    new StartupTimes(_journalRecovered, _clock.Elapsed - _submittedAt)));
                if (_startedFrom is null && _requested.LoadFrom is not null)
                {
                    Note($"loaded weights from {Path.GetFileName(_requested.LoadFrom)} (optimizer, schedule and counters start fresh)");
                }
            }
            if (_step >= _total)
            {
                // Also reached when the process died between the final commit and recording completion.
                StopRanks(Enumerable.Range(0, Ranks));
                void AlreadyComplete() => Finish(JobOutcome.AlreadyComplete, $"already complete at step {_step}: nothing to do", _digests[0]);
                if (_state.Status == JobStatus.Completed)
                {
                    AlreadyComplete();
                }
                else
                {
                    Record(new JobCompleted(_step, _digests[0] ?? "", Now), AlreadyComplete);
                }
                return;
            }
            var nodes = _placement.IsCluster ? _placedOn.Select(s => s.Node!).ToArray() : null;
            Record(new RanksStarted(_generation, Ranks, _startedFrom is null ? null : Path.GetFileName(_startedFrom), _step, Now, nodes), () =>
            {
                _phase = "training";
                ReactToPlacement();
                _metrics.RanksStarted(Ranks);
                _lastStepAt = _clock.Elapsed;
                BeginStep();
            });
        });
        Common();
    }

    // ---- Stepping: gradients from every rank, their average back to every rank -----------------------

    private void BeginStep()
    {
        if (_stopRequested)
        {
            BeginCheckpoint("interrupt");
            return;
        }
        if (_resizePending && HoldsDrainingNode)
        {
            BeginCheckpoint("resize"); // a drain moves work off at once
            return;
        }
        var next = _step + 1;
        List<FaultSpec> due = _faults.Count == 0 ? [] : UnfiredFaultsAt(next).ToList();
        if (due.Count == 0)
        {
            SendCompute(next, []);
            return;
        }
        PersistAll(due.Select(f => new FaultFired(f.Id, Now)), fired =>
        {
            _state = _state.Apply(fired);
            if (fired.FaultId != due[^1].Id)
            {
                return;
            }
            if (due.Any(f => f.Kind == FaultKind.KillProcess))
            {
                Hosting.OrchestratorLog.LastWords(Context.System, isError: false, $"injected fault kill-process@step={next}: killing the process");
                Process.GetCurrentProcess().Kill();
            }
            SendCompute(next, due);
        });
    }

    private void SendCompute(long step, IReadOnlyList<FaultSpec> faults)
    {
        _applyingStep = -1;
        if (_reduction?.Generation == _generation && _reduction.Ranks == Ranks)
        {
            _reduction.StartStep();
        }
        else
        {
            // A new generation gets a new averaged array: ranks of the old one may still be reading theirs.
            _reduction = new GradientReduction(Ranks, _generation);
        }
        _waiting = Enumerable.Range(0, Ranks).ToHashSet();
        _gradientsFrom = [];
        _averagedChunks = 0;
        _runThrough = Ranks == 1 && faults.Count == 0 ? RunAheadTo(step) : step;
        for (var rank = 0; rank < Ranks; rank++)
        {
            var fault = faults.FirstOrDefault(f => f.Rank == rank && f.Kind != FaultKind.KillProcess)?.Kind;
            var compute = new ComputeGradients(_generation, step, fault, Alone: Ranks == 1, Through: _runThrough);
            // A remote rank's step starts on its gradient link, like the rest of the step: Akka.Remote's hop
            // cost as much as a megabyte of gradients. Order holds: each rank gets a step's start after the
            // last step's every average, on the same link (or by Akka, for every message of a local rank).
            if (_linkIds[rank] is not { } link || _hub is null || !_hub.TrySend(link, compute))
            {
                _ranks[rank].Tell(compute);
            }
        }
        ArmTimeout(_requested.StepTimeout, $"step {step}");
        if (!_stepping)
        {
            // Steps follow steps: the handlers stay in place instead of being built again for every step.
            Become(Stepping);
            _stepping = true; // every other state is entered through Enter, which clears it
        }
    }

    private void Stepping()
    {
        Command<GradientChunk>(chunk => chunk.Generation == _generation, chunk =>
        {
            if (_gradientsFrom.Count == 0)
            {
                _syncStartedAt = _clock.Elapsed;
            }
            _gradientsFrom.Add(chunk.Rank);
            if (_reduction!.Add(chunk) is { } averaged)
            {
                var last = ++_averagedChunks == averaged.Count;
                if (last)
                {
                    _metrics.GradientsSynced((_clock.Elapsed - _syncStartedAt).TotalSeconds);
                    _syncedLoss = _reduction.MeanLoss;
                }
                for (var rank = 0; rank < _ranks.Length; rank++)
                {
                    if (_linkIds[rank] is not { } link || _hub is null || !_hub.TrySend(link, averaged))
                    {
                        _ranks[rank].Tell(averaged);
                    }
                }
                if (last)
                {
                    StartNextOnAverage(averaged.Step);
                }
            }
        });
        Command<StepsApplied>(batch => batch.Generation == _generation, batch =>
        {
            // Steps inside a one-rank job's run-ahead: reported, and the rank already works on the next.
            foreach (var applied in batch.Steps)
            {
                _saveRequested |= applied.SaveRequested;
                Stepped(applied);
            }
            ArmTimeout(_requested.StepTimeout, $"step {_step + 1}");
        });
        Command<StepApplied>(applied => applied.Generation == _generation && applied.Step == _applyingStep, applied =>
        {
            // The next step already runs: this one is only recorded, once every rank has applied it. A save
            // its job asked for is taken at the end of the step that runs.
            _saveRequested |= applied.SaveRequested;
            _applying.Remove(applied.Rank);
            if (_applying.Count == 0)
            {
                _applyingStep = -1;
                Stepped(applied);
            }
        });
        Command<StepApplied>(applied => applied.Generation == _generation, applied =>
        {
            _saveRequested |= applied.SaveRequested; // any rank's job may ask; the last rank to answer decides
            if (!Arrived(applied.Rank))
            {
                return;
            }
            Stepped(applied);
            if (_step >= _total)
            {
                BeginCheckpoint(_requested.Schedule.SaveLast ? "final" : null);
            }
            else if (_stopRequested)
            {
                // A stop that came during a run-ahead window is acted on at its end, which is often a
                // scheduled checkpoint's step: one save there, as the interrupt it is, not two of one step.
                BeginCheckpoint("interrupt");
            }
            else if (_requested.Schedule.IsDue(_step, applied.EpochEnded, applied.Epoch, _sinceSave.Elapsed))
            {
                // Growing restarts every rank from this checkpoint, so it is written before training goes on.
                BeginCheckpoint(_resizePending ? "resize" : "schedule");
            }
            else if (_saveRequested)
            {
                BeginCheckpoint(_resizePending ? "resize" : "requested");
            }
            else
            {
                BeginStep();
            }
        });
        Common();
    }

    /// <summary>
    /// Starts step <paramref name="finished"/> + 1 as the last average of <paramref name="finished"/> leaves,
    /// when nothing can be decided at its end: each rank then goes on from applying that average to its next
    /// gradients without the round trip of its step end and the next start, which on two processes took
    /// about a seventh of a 1 MB step. The next step's averages cannot overwrite this one's before every rank
    /// has read them: each is written only once every rank has sent that chunk of the next step, and a rank
    /// sends it only after applying. A checkpoint due by time is judged as the average leaves: one that comes
    /// due while the ranks apply it waits for the next step's end.
    /// </summary>
    private void StartNextOnAverage(long finished)
    {
        var schedule = _requested.Schedule;
        var decidedAtEnd = finished >= _total || _stopRequested || _resizePending || _saveRequested
            || schedule.EveryEpochs is not null // where epochs end is the ranks' to tell, in their step ends
            || schedule.IsDue(finished, false, 0, _sinceSave.Elapsed)
            || UnfiredFaultsAt(finished + 1).Any();
        if (decidedAtEnd)
        {
            return;
        }
        SendCompute(finished + 1, []);
        // Set after the start went out, which forgets any earlier overlap: no answer is read before this returns.
        _applyingStep = finished;
        _applying.Clear();
        for (var rank = 0; rank < Ranks; rank++)
        {
            _applying.Add(rank);
        }
    }

    private IEnumerable<FaultSpec> UnfiredFaultsAt(long step) => _faults.Where(f => f.Step == step && !_state.FiredFaults.Contains(f.Id));

    /// <summary>
    /// How far a one-rank job may step without waiting for the supervisor: nothing is averaged, so the
    /// supervisor is needed only at checkpoints, injected faults, the last step, and between windows of
    /// about <see cref="RunAheadWindow"/> of steps, where stop, drain and resize requests are acted on. A
    /// one-millisecond step then no longer waits for two thread hand-offs.
    /// </summary>
    private long RunAheadTo(long step)
    {
        var schedule = _requested.Schedule;
        if (schedule.EveryEpochs is not null || _stepDuration <= TimeSpan.Zero)
        {
            return step; // where epochs end is the rank's to know; and the first step has no duration yet
        }
        var through = Math.Min(_total, step + (long)Math.Clamp(RunAheadWindow / _stepDuration, 1, MaxRunAhead) - 1);
        if (schedule.EveryIterations is { } every)
        {
            through = Math.Min(through, (step + every - 1) / every * every);
        }
        foreach (var fault in _faults)
        {
            if (fault.Step > step && !_state.FiredFaults.Contains(fault.Id))
            {
                through = Math.Min(through, fault.Step - 1);
            }
        }
        return Math.Max(step, through);
    }

    /// <summary>Records and reports a step every rank has applied.</summary>
    private void Stepped(StepApplied applied)
    {
        _step = applied.Step;
        var loss = Ranks == 1 ? applied.Loss : _syncedLoss;
        _lastLoss = loss;
        var now = _clock.Elapsed;
        // Steps reported together arrive together: their own durations, measured by the rank, say how long they took.
        _stepDuration = applied.Seconds > 0 ? TimeSpan.FromSeconds(applied.Seconds) : now - _lastStepAt;
        var rate = 1.0 / Math.Max(1e-9, _stepDuration.TotalSeconds);
        _lastStepAt = now;
        var report = new StepReport(_step, _total, applied.Epoch, loss, applied.LearningRate, rate, applied.Samples);
        _reporter.Tell(new ProgressStep(report));
        _metrics.Stepped(report);
        _tensorBoard?.Stepped(report);
        KillPoints.ReachStep(_step);
    }

    // ---- Checkpointing: barrier, buffer sync, rank 0 saves --------------------------------------------

    /// <summary>A null reason syncs buffers and checks replicas but saves nothing (the end of a run without --save-last).</summary>
    private void BeginCheckpoint(string? reason)
    {
        _saveRequested = false;
        _lossAtStep[_step] = _lastLoss; // journalled with the commit, which comes later
        _buffers = new float[]?[Ranks];
        _digests = new string?[Ranks];
        _waiting = Enumerable.Range(0, Ranks).ToHashSet();
        foreach (var rank in _ranks)
        {
            rank.Tell(new ExportBuffers(_generation, _step));
        }
        ArmTimeout(_requested.StepTimeout, $"checkpoint at step {_step}");
        Enter(() => Checkpointing(reason));
    }

    private void Checkpointing(string? reason)
    {
        Command<BuffersExported>(exported => exported.Generation == _generation, exported =>
        {
            _buffers[exported.Rank] = exported.Values;
            if (!Arrived(exported.Rank))
            {
                return;
            }
            var averaged = GradientAverager.Average(_buffers!);
            _waiting = Enumerable.Range(0, Ranks).ToHashSet();
            foreach (var rank in _ranks)
            {
                rank.Tell(new ImportBuffers(_generation, _step, averaged));
            }
        });
        Command<BuffersImported>(imported => imported.Generation == _generation, imported =>
        {
            _digests[imported.Rank] = imported.WeightsSha256;
            if (!Arrived(imported.Rank))
            {
                return;
            }
            if (DivergedRank() is { } diverged)
            {
                Fail(diverged, $"replica of rank {diverged} diverged from rank 0 at step {_step} (weights {_digests[diverged]![..12]} vs {_digests[0]![..12]})");
                return;
            }
            if (reason is null)
            {
                Done(JobOutcome.Completed, $"completed {_step} steps", checkpoint: null);
                return;
            }
            _ranks[0].Tell(new SaveCheckpoint(_generation, _step, reason, Blocking: reason != "schedule"));
        });
        Command<CheckpointCaptured>(captured => captured.Generation == _generation, captured =>
        {
            Timers.Cancel(PhaseTimer);
            _lastCapturedStep = captured.Step;
            if (reason is "schedule" or "requested") // training goes on; the other saves end the run or its world
            {
                _sinceSave.Restart();
                BeginStep();
            }
            else if (_lastWrittenStep >= captured.Step)
            {
                FinishAfterFinalWrite(reason!, captured.Step, Path.GetFileName(_store.LatestPointer));
            }
            else
            {
                Enter(() => AwaitingFinalWrite(reason!, captured.Step));
            }
        });
        Common();
    }

    // The commit report of a blocking save can arrive before or after the capture answer; both paths end here.
    private void AwaitingFinalWrite(string reason, long step)
    {
        Common(onWritten: written =>
        {
            if (written.Step == step)
            {
                FinishAfterFinalWrite(reason, step, written.Name);
            }
        });
    }

    private void FinishAfterFinalWrite(string reason, long step, string? checkpoint)
    {
        if (reason == "resize")
        {
            Resize(step, checkpoint!);
            return;
        }
        Done(reason == "interrupt" ? JobOutcome.Stopped : JobOutcome.Completed,
            reason == "interrupt" ? $"stopped at step {step}; checkpoint saved, rerun the same command to continue" : $"completed {step} steps",
            checkpoint);
    }

    private void Resize(long step, string checkpoint)
    {
        _resizePending = false;
        var world = _sizing.SizeFor(UsableSlots().Count) ?? _world;
        var reason = HoldsDrainingNode ? "node drained" : "nodes joined";
        Record(new WorldResized(_world, world, checkpoint, step, reason, Now), () =>
        {
            Note($"resizing from {_world} to {world} rank(s) at {checkpoint} ({reason})");
            StopRanks(Enumerable.Range(0, Ranks));
            _generation++;
            _startedFrom = Path.Combine(_store.Directory, checkpoint);
            StartAll(new StartRank(0, _startedFrom, null, false, false));
        });
    }

    // ---- Failures and restarts ------------------------------------------------------------------------

    private void Fail(int rank, string reason)
    {
        Timers.Cancel(PhaseTimer);
        var failedGeneration = _generation;
        _generation++; // answers from the failed incarnation are ignored from here on
        _metrics.RankFailed(rank);
        Record(new RankFailed(failedGeneration, rank, _step + 1, reason, Now), () =>
        {
            if (_lastCapturedStep <= _lastWrittenStep)
            {
                DecideRestart(rank, reason);
                return;
            }
            // A checkpoint is still being written: restart from it once it lands rather than from the one before.
            Timers.StartSingleTimer(PhaseTimer, new InFlightWriteWaitOver(_generation), _requested.StepTimeout);
            Enter(() => AwaitingInFlightWrite(rank, reason));
        });
    }

    private void AwaitingInFlightWrite(int rank, string reason)
    {
        Command<InFlightWriteWaitOver>(over => over.Generation == _generation, _ => DecideRestart(rank, reason));
        Common(onWritten: _ =>
        {
            if (_lastWrittenStep >= _lastCapturedStep)
            {
                Timers.Cancel(PhaseTimer);
                DecideRestart(rank, reason);
            }
        });
    }

    private void DecideRestart(int rank, string reason)
    {
        var latest = _candidates.Latest().Checkpoint;
        var delay = _requested.Restarts.NextDelay(_state.Restarts, Now);
        if (delay is null)
        {
            var message = $"rank {rank} failed at step {_step + 1}: {reason}; restart limit reached ({_requested.Restarts.MaxRestarts} in {_requested.Restarts.Window.TotalMinutes:0.#} min); last good checkpoint: {latest?.Name ?? "none"}";
            Record(new JobFailed(message, latest?.Name, Now), () =>
            {
                StopRanks(Enumerable.Range(0, Ranks));
                Finish(JobOutcome.Failed, message);
            });
            return;
        }
        var fromStep = latest?.Info.Iteration ?? 0;
        var slotKept = !_placement.IsCluster || (_placedOn.Length > rank && UsableSlots().Contains(_placedOn[rank]) && _sizing.SizeFor(UsableSlots().Count) == _world);
        var mode = latest is not null && _step == fromStep && slotKept ? "one" : "all";
        var scheduled = new RestartScheduled(_generation, mode, rank, latest?.Name, fromStep, _step - fromStep, delay.Value.TotalMilliseconds, Now);
        Record(scheduled, () =>
        {
            Note(mode == "all"
                ? $"rank {rank} failed at step {_step + 1} ({reason}); restarting all ranks from {latest?.Name ?? "the start"} in {delay.Value.TotalMilliseconds:0} ms, {_step - fromStep} step(s) redone"
                : $"rank {rank} failed at step {_step + 1} ({reason}); no step since {latest!.Name}, so only rank {rank} is recreated and the others reload it in place, in {delay.Value.TotalMilliseconds:0} ms");
            _reporter.Tell(new ProgressRestart(fromStep, _state.Restarts.Length));
            _tensorBoard?.Restarted(fromStep, _state.Restarts.Length);
            _metrics.Restarted();
            var recreate = mode == "all" ? Enumerable.Range(0, Ranks).ToList() : [rank];
            StopRanks(recreate);
            _phase = "restarting";
            Timers.StartSingleTimer(RestartTimer, new RestartNow(_generation, recreate.ToArray(), latest?.Path), delay.Value);
            Enter(Restarting);
        });
    }

    private void Restarting()
    {
        Command<RestartNow>(now => now.Generation == _generation, now =>
        {
            _startedFrom = now.FromCheckpoint;
            var start = new StartRank(0, now.FromCheckpoint, null, false, false);
            if (now.Recreate.Length == Ranks)
            {
                StartAll(start); // the world may have shrunk or grown since the failure
            }
            else
            {
                StartRanks(now.Recreate, start, now.FromCheckpoint);
            }
        });
        Common();
    }

    /// <summary>A rank refused the checkpoint this supervisor chose: start every rank again from an older one.</summary>
    private void StartFromOlder(RankWorkFailed failed)
    {
        var (lines, next) = _candidates.Refuse(failed.RefusedCheckpoint!, failed.Reason);
        lines.ToList().ForEach(Note);
        StopRanks(Enumerable.Range(0, Ranks));
        _generation++;
        _startedFrom = next?.Path;
        StartAll(new StartRank(0, _startedFrom, _startedFrom is null ? _requested.LoadFrom : null, _requested.SkipOptimizerState, _requested.SkipSchedulerState));
    }

    // ---- Done -------------------------------------------------------------------------------------------

    private void Done(JobOutcome outcome, string message, string? checkpoint)
    {
        Timers.Cancel(PhaseTimer);
        var digest = _digests.FirstOrDefault() ?? _state.LastCheckpoint?.WeightsSha256;
        JobEvent final = outcome == JobOutcome.Stopped ? new JobStopped(_step, checkpoint, Now) : new JobCompleted(_step, digest ?? "", Now);
        Record(final, () =>
        {
            StopRanks(Enumerable.Range(0, Ranks));
            Finish(outcome, message, digest);
        });
    }

    private void Finish(JobOutcome outcome, string message, string? digest = null)
    {
        _metrics.Ended();
        _phase = outcome.ToString().ToLowerInvariant();
        _why = outcome is JobOutcome.Failed or JobOutcome.Refused ? message : null;
        _requester?.Tell(new JobFinished(outcome, _step, digest, message));
        Enter(Finished);
    }

    private void Finished()
    {
        Common();
    }

    // ---- Shared by every state --------------------------------------------------------------------------

    private void Common(Action<CheckpointWritten>? onWritten = null)
    {
        Command<CheckpointWritten>(written =>
        {
            _lastWrittenStep = Math.Max(_lastWrittenStep, written.Step);
            var loss = _lossAtStep.Remove(written.Step, out var atCapture) ? atCapture : double.NaN;
            var save = new SaveReport(written.Name, written.Step, written.Reason, written.Bytes,
                TimeSpan.FromMilliseconds(written.StallMilliseconds), TimeSpan.FromMilliseconds(written.WriteMilliseconds), written.Deleted, written.AlreadyPresent, written.WeightsSha256);
            _reporter.Tell(new ProgressSaved(save));
            _tensorBoard?.Saved(save);
            if (written.AlreadyPresent)
            {
                onWritten?.Invoke(written);
                return;
            }
            _metrics.Committed(written.Step, written.StallMilliseconds / 1000, written.WriteMilliseconds / 1000, written.Bytes);
            Record(new CheckpointCommitted(written.Step, written.Name, written.Path, written.WeightsSha256, loss, written.Reason, Now), () => onWritten?.Invoke(written));
        });
        Command<RankWorkFailed>(failed => failed.Generation == _generation && failed.DiskFull, failed =>
        {
            // Every restart would fail the same way: the job ends, its committed checkpoints as they are.
            StopRanks(Enumerable.Range(0, Ranks));
            Finish(JobOutcome.Failed, DiskFull.Message(_requested.WorkDir, _candidates.Latest().Checkpoint?.Name));
        });
        Command<RankWorkFailed>(failed => failed.Generation == _generation && failed.RefusedCheckpoint is { } path && _candidates.ChoseItself(path), StartFromOlder);
        Command<RankWorkFailed>(failed => failed.Generation == _generation && failed.Permanent, failed =>
        {
            StopRanks(Enumerable.Range(0, Ranks));
            Finish(JobOutcome.Refused, failed.Reason);
        });
        Command<RankWorkFailed>(failed => failed.Generation == _generation, failed => Fail(failed.Rank, failed.Reason));
        Command<RankWorkFailed>(_ => { }); // from an incarnation already replaced
        Command<PhaseTimedOut>(timedOut => timedOut.Generation == _generation && _waiting.Count > 0, timedOut =>
        {
            // A rank that never sent its gradients is the hung one; its peers are only waiting for it.
            var silent = _waiting.Where(r => !_gradientsFrom.Contains(r)).ToList();
            var rank = silent.Count > 0 ? silent.Min() : _waiting.Min();
            Fail(rank, $"rank {rank} did not answer within {_requested.StepTimeout.TotalSeconds:0.#} s during {timedOut.Phase} (hung)");
        });
        Command<StopJob>(_ => StopRequested());
        Command<Terminated>(terminated => Array.IndexOf(_ranks, terminated.ActorRef) is var rank && rank >= 0 && _phase is "starting" or "training", terminated =>
        {
            var rank = Array.IndexOf(_ranks, terminated.ActorRef);
            Fail(rank, terminated.AddressTerminated
                ? $"node {_placedOn[rank].Node} holding rank {rank} left the cluster"
                : $"rank {rank} stopped unexpectedly");
        });
        Command<MembersChanged>(changed => Membership(changed));
        Command<DirectoryChecked>(DirectoryResult);
        Command<GetJobStatus>(_ => Sender.Tell(LiveStatus()));
        Command<SaveSnapshotSuccess>(_ => { });
        Command<SaveSnapshotFailure>(failure => Note($"journal snapshot failed: {failure.Cause.Message}"));
        CommandAny(_ => { }); // late answers of replaced ranks and expired timers
    }

    private bool Arrived(int rank)
    {
        _waiting.Remove(rank);
        if (_waiting.Count > 0)
        {
            return false;
        }
        Timers.Cancel(PhaseTimer);
        return true;
    }

    private int? DivergedRank()
    {
        for (var rank = 1; rank < _digests.Length; rank++)
        {
            if (_digests[rank] != _digests[0])
            {
                return rank;
            }
        }
        return null;
    }

    private void Enter(Action behaviour)
    {
        _stepping = false;
        Become(behaviour);
        if (_stopRequested && _phase is "waiting" or "starting" or "restarting")
        {
            StopWithoutSave();
        }
    }

    // Ranks that are starting, or waiting to, have no step to save at (and may never reach one: a hung
    // start): a stop ends the job now, its newest checkpoint as it is.
    private void StopRequested()
    {
        _stopRequested = true;
        if (_phase is "waiting" or "starting" or "restarting")
        {
            StopWithoutSave();
        }
    }

    private void StopWithoutSave()
    {
        Timers.Cancel(RestartTimer);
        var latest = _state.LastCheckpoint?.Name;
        _phase = "stopping";
        Done(JobOutcome.Stopped, $"stopped before training resumed; no checkpoint saved ({(latest is null ? "none yet" : latest + " is the newest")}), rerun the same command to continue", latest);
    }

    private void ArmTimeout(TimeSpan after, string phase)
    {
        Timers.StartSingleTimer(PhaseTimer, new PhaseTimedOut(_generation, phase), after);
    }

    private void StopRanks(IEnumerable<int> ranks)
    {
        foreach (var rank in ranks)
        {
            if (_ranks.Length > rank && _ranks[rank] is { } actor)
            {
                Context.Unwatch(actor);
                Context.Stop(actor);
            }
        }
    }

    private JobLiveStatus LiveStatus() => new(
        _requested.Job, _requested.WorkDir, _phase, _why, _step, _total, _lastLoss, _ranks.Length == 0 ? 0 : _world,
        _placedOn.Take(_ranks.Length).Select(s => s.Node ?? "local").ToArray(), _state.LastCheckpoint?.Name, _state.Restarts.Length,
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

    private void Note(string message) => _reporter.Tell(new ProgressNote(message));

    private static DateTimeOffset Now => DateTimeOffset.UtcNow;

    private sealed record PhaseTimedOut(int Generation, string Phase);

    private sealed record RestartNow(int Generation, int[] Recreate, string? FromCheckpoint);

    private sealed record InFlightWriteWaitOver(int Generation);

    private sealed record RetryPlacement(int Generation);
}
