using System.Diagnostics;
using Akka.Actor;
using Orchestrator.Actors.Gradients;
using Orchestrator.Actors.Protocol;
using Orchestrator.Trainer.Checkpointing;
using Orchestrator.Trainer.Distributed;
using Orchestrator.Trainer.Interop;

namespace Orchestrator.Actors.Rank;

/// <summary>
/// One rank of a data-parallel job. It owns its replica (model, optimizer, data shard) on a dedicated
/// thread and answers the supervisor between steps. Rank 0 alone owns a checkpoint writer: the other
/// ranks never write checkpoint files.
/// </summary>
public sealed class RankTrainer : ReceiveActor
{
    /// <summary>How often a rank stepping alone reports the steps it has taken (see <see cref="StepsApplied"/>).</summary>
    private static readonly TimeSpan ReportEvery = TimeSpan.FromMilliseconds(10);

    private readonly RankSpec _spec;
    private readonly IActorRef _supervisor;
    private readonly RankThread _thread;
    private readonly CancellationTokenSource _cancel = new();
    private readonly CheckpointStore _store;
    private readonly AsyncCheckpointWriter? _writer;
    private readonly GradientLinkAddress? _linkAddress;
    private GradientLinkClient? _link;
    private RankRing? _ring;
    private SharedAllReduce? _shared; // ranks in one process: the generation's all-reduce in its memory
    private RankWorker? _worker;
    private string? _resumedFrom;
    private int _stepGeneration;
    private AveragedChunk?[] _averaged = [];
    private int _averagedCount;
    private float[] _assembled = [];

    public RankTrainer(RankSpec spec, IActorRef supervisor, GradientLinkAddress? link)
    {
        _spec = spec;
        _supervisor = supervisor;
        _linkAddress = link;
        _thread = new RankThread($"rank-{spec.Rank}");
        _store = new CheckpointStore(spec.CheckpointDirectory, new CheckpointNaming(spec.NameTemplate));
        if (spec.Rank == 0)
        {
            var self = Self;
            // Retention runs on the writer thread; it reads the resumed-from name, which only changes between saves.
            _writer = new AsyncCheckpointWriter(_store, c => _store.ApplyRetention(spec.Keep, Protected(c.Name)), report => self.Tell(report));
        }
        Become(Working);
    }

    /// <summary>A rank on another node than its supervisor gets a <paramref name="link"/> for its gradients.</summary>
    public static Props Props(RankSpec spec, IActorRef supervisor, GradientLinkAddress? link = null) =>
        Akka.Actor.Props.Create(() => new RankTrainer(spec, supervisor, link));

    protected override void PreStart()
    {
        if (_linkAddress is not null)
        {
            // Fails the actor's start (the supervisor sees the rank end) when the supervisor's node cannot be reached.
            _link = GradientLinkClient.Connect(_linkAddress, Self, _linkAddress.Tls ? GradientLinkTls.FromConfig(Context.System.Settings.Config) : null);
        }
        _ring = RankRing.OpenFor(Context.System, _spec.Rank, _spec.Ranks);
    }

    protected override bool AroundReceive(Receive receive, object message)
    {
        if (message is StartRank or ReloadCheckpoint or JoinRing or UseSharedReduction)
        {
            _ring?.Abort(); // a ring step of an older generation may be waiting on a peer that is gone
            _shared?.Abort();
        }
        return base.AroundReceive(receive, message);
    }

    private void Working()
    {
        Receive<StartRank>(start => Run(start.Generation, 0, () =>
        {
            _worker?.Dispose();
            _worker = RankWorker.Create(_spec);
            var notes = new List<string>();
            Volatile.Write(ref _resumedFrom, start.ResumeFrom is null ? null : Path.GetFileName(start.ResumeFrom));
            if (start.ResumeFrom is not null)
            {
                try
                {
                    var checkpoint = _store.Load(start.ResumeFrom);
                    notes.AddRange(_worker.Resume(checkpoint, start.SkipOptimizerState, start.SkipSchedulerState).Describe(checkpoint.Name));
                }
                catch (CorruptCheckpointException e)
                {
                    throw new StartCheckpointRefusedException(start.ResumeFrom, e);
                }
            }
            else if (start.LoadWeightsFrom is not null)
            {
                // A checkpoint folder or a PyTorch state_dict file: every rank loads the same weights.
                notes.AddRange(WeightsSource.Load(start.LoadWeightsFrom, _store, _worker.LoadWeights).Notes);
            }
            return Ready(start.Generation, notes);
        }));
        Receive<ReloadCheckpoint>(reload => Run(reload.Generation, 0, () =>
        {
            var checkpoint = _store.Load(reload.Path);
            return Ready(reload.Generation, Worker.Resume(checkpoint, false, false).Describe(checkpoint.Name));
        }));
        Receive<ComputeGradients>(compute => compute.Alone, compute =>
        {
            var supervisor = _supervisor;
            var self = Self;
            var step = compute.Step;
            Run(compute.Generation, () => step, () =>
            {
                var reported = new List<StepApplied>();
                var reportedAt = Stopwatch.GetTimestamp();
                void Report()
                {
                    if (reported.Count > 0)
                    {
                        supervisor.Tell(new StepsApplied(compute.Generation, [.. reported]), self);
                        reported.Clear();
                    }
                    reportedAt = Stopwatch.GetTimestamp();
                }
                try
                {
                    for (; step < compute.LastStep && !_cancel.IsCancellationRequested; step++)
                    {
                        var applied = StepAlone(compute.Generation, step == compute.Step ? compute.Fault : null);
                        if (applied.SaveRequested)
                        {
                            return applied; // the window ends here, as its last step: the supervisor decides the save
                        }
                        reported.Add(applied);
                        if (Stopwatch.GetElapsedTime(reportedAt) >= ReportEvery)
                        {
                            Report();
                        }
                    }
                }
                finally
                {
                    Report(); // the steps taken so far, before the failure of a later one is told
                }
                return _cancel.IsCancellationRequested ? null : StepAlone(compute.Generation, step == compute.Step ? compute.Fault : null);
            });
        });
        Receive<JoinRing>(join => Run(join.Generation, 0, () =>
        {
            _ring!.Join(join, _cancel.Token);
            return null;
        }));
        Receive<UseSharedReduction>(use => _shared = use.Reduction);
        Receive<ComputeGradients>(compute =>
        {
            // Averages of an abandoned step (a peer failed) must not mix with this step's.
            _stepGeneration = compute.Generation;
            Array.Clear(_averaged);
            _averagedCount = 0;
            var (link, shared) = (_link, _shared?.Generation == compute.Generation ? _shared.For(_spec.Rank) : null);
            Run(compute.Generation, compute.Step, () =>
            {
                var local = Worker.ComputeGradients(compute.Fault, _cancel.Token);
                if (((IGradientCollective?)_ring?.For(compute.Generation) ?? shared) is { } ring)
                {
                    // Averaged among the ranks: no gradient byte goes to the supervisor.
                    var started = System.Diagnostics.Stopwatch.GetTimestamp();
                    var reduced = ring.AllReduce(local.Step, local.Values, local.Loss, local.Samples);
                    var ringSeconds = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds;
                    return Apply(compute.Generation, reduced.Averaged, reduced.GlobalSamples, reduced.MeanLoss, link, ringSeconds);
                }
                SendGradients(compute.Generation, local);
                return null;
            });
        });
        Receive<AveragedChunk>(ReceiveAveraged);
        Receive<GradientLinkClosed>(closed =>
        {
            // Ending the actor is how the supervisor learns of it (it watches its ranks): a rank failure.
            Hosting.OrchestratorLog.Warning(Context, $"rank {_spec.Rank}: gradient link to the supervisor ended ({closed.Why})");
            Context.Stop(Self);
        });
        Receive<ExportBuffers>(export => Run(export.Generation, export.Step, () => new BuffersExported(export.Generation, _spec.Rank, export.Step, Worker.ExportBuffers())));
        Receive<ImportBuffers>(import => Run(import.Generation, import.Step, () =>
        {
            Worker.ImportBuffers(import.Values);
            return new BuffersImported(import.Generation, _spec.Rank, import.Step, Worker.WeightsDigest());
        }));
        Receive<SaveCheckpoint>(save => Run(save.Generation, save.Step, () => Save(save)));
        Receive<SaveReport>(report => _supervisor.Tell(new CheckpointWritten(
            -1, report.Iteration, report.Name, Path.Combine(_store.Directory, report.Name), report.WeightsSha256, report.Reason, report.Bytes,
            report.Stall.TotalMilliseconds, report.WriteDuration.TotalMilliseconds, report.Deleted.ToArray(), report.AlreadyPresent)));
    }

    protected override void PostStop()
    {
        _link?.Dispose();
        _ring?.Dispose();
        _shared?.Abort(); // this rank's peers must not wait for it, nor its thread for them
        _cancel.Cancel();
        var writer = _writer;
        var worker = _worker;
        // The rank thread finishes what it holds (an in-flight write included), then frees the replica.
        _thread.Post(() =>
        {
            writer?.Dispose();
            worker?.Dispose();
        });
        _thread.Dispose();
    }

    /// <summary>Never deleted by retention: the checkpoint just committed and the one this replica resumed from.</summary>
    private HashSet<string> Protected(string committed) =>
        Volatile.Read(ref _resumedFrom) is { } resumed ? [committed, resumed] : [committed];

    private RankWorker Worker => _worker ?? throw new InvalidOperationException($"rank {_spec.Rank} was asked to work before it was started");

    private RankReady Ready(int generation, IEnumerable<string> notes) =>
        new(generation, _spec.Rank, Worker.Counters.Iteration, Worker.StepsPerEpoch, Worker.WeightsDigest(), notes.ToArray(), _ring?.Endpoint);

    private CheckpointCaptured Save(SaveCheckpoint save)
    {
        var writer = _writer ?? throw new InvalidOperationException($"rank {_spec.Rank} cannot save: only rank 0 writes checkpoints");
        var stall = writer.Save(inPlace => Worker.Capture(save.Reason, inPlace), save.Blocking || SynchronousSaves.Forced);
        return new CheckpointCaptured(save.Generation, save.Step, stall.TotalMilliseconds);
    }

    private void SendGradients(int generation, LocalGradients local)
    {
        var count = Chunking.CountFor(local.Values.Length);
        for (var index = 0; index < count; index++)
        {
            var chunk = new GradientChunk(generation, _spec.Rank, local.Step, index, count, local.Values.Length, Chunking.Slice(local.Values, index), local.Loss, local.Samples);
            if (_link is { } link)
            {
                link.Send(chunk);
            }
            else
            {
                _supervisor.Tell(chunk);
            }
        }
    }

    private void ReceiveAveraged(AveragedChunk chunk)
    {
        if (chunk.Generation != _stepGeneration)
        {
            return;
        }
        if (_averaged.Length != chunk.Count)
        {
            _averaged = new AveragedChunk?[chunk.Count];
        }
        if (_averaged[chunk.Index] is null)
        {
            _averagedCount++;
        }
        _averaged[chunk.Index] = chunk;
        if (_averagedCount < chunk.Count)
        {
            return;
        }
        var averaged = Assemble(_averaged!, chunk.TotalLength);
        Array.Clear(_averaged);
        _averagedCount = 0;
        var link = _link;
        Run(chunk.Generation, chunk.Step, () => Apply(chunk.Generation, averaged, chunk.GlobalSamples, double.NaN, link));
    }

    /// <summary>Applies a step's averaged gradients (rank thread); the step end to tell, unless it went on the link.</summary>
    private StepApplied? Apply(int generation, float[] averaged, long globalSamples, double meanLoss, GradientLinkClient? link, double ringSeconds = 0)
    {
        var epochBefore = Worker.Counters.Epoch;
        var rate = Worker.LearningRate;
        Worker.ApplyGradients(averaged, globalSamples);
        var counters = Worker.Counters;
        var applied = new StepApplied(generation, _spec.Rank, counters.Iteration, counters.Epoch, counters.Epoch != epochBefore, rate, meanLoss, globalSamples,
            SaveRequested: Worker.TakeSaveRequest(), RingSeconds: ringSeconds);
        // The step ends the way it started, on the link. A rank stepping alone reports by Akka only: its
        // batched reports and its window's last step must not overtake one another.
        return link is not null && link.Send(applied) ? null : applied;
    }

    /// <summary>
    /// The whole averaged array: when every chunk is a view of one array at its own place (the supervisor's
    /// averages in this process, or a gradient link's landing array) that array itself, else the chunks
    /// copied into this rank's own array. Either is read by the rank thread before the next step's averages
    /// can arrive.
    /// </summary>
    private float[] Assemble(AveragedChunk[] chunks, int totalLength)
    {
        var shared = chunks[0].Values.Array;
        if (shared?.Length == totalLength && chunks.All(c => c.Values.Array == shared && c.Values.Offset == Chunking.OffsetOf(c.Index, totalLength)))
        {
            return shared;
        }
        if (_assembled.Length != totalLength)
        {
            _assembled = new float[totalLength];
        }
        foreach (var c in chunks)
        {
            c.Values.AsSpan().CopyTo(_assembled.AsSpan(Chunking.OffsetOf(c.Index, totalLength)));
        }
        return _assembled;
    }

    // Runs work on the rank thread, which tells its answer (or its failure) to the supervisor itself: one
    // hand-off fewer per message than piping a task back through this actor. Tell is safe from any thread,
    // and the work touches only the replica, owned by that thread, and immutable fields.
    private StepApplied StepAlone(int generation, FaultKind? fault)
    {
        var started = Stopwatch.GetTimestamp();
        var epochBefore = Worker.Counters.Epoch;
        var rate = Worker.LearningRate;
        var (loss, samples) = Worker.StepAlone(fault, _cancel.Token);
        var counters = Worker.Counters;
        return new StepApplied(generation, _spec.Rank, counters.Iteration, counters.Epoch, counters.Epoch != epochBefore, rate, loss, samples,
            Stopwatch.GetElapsedTime(started).TotalSeconds, Worker.TakeSaveRequest());
    }

    private void Run(int generation, long step, Func<object?> work) => Run(generation, () => step, work);

    /// <summary>As above, for work that runs several steps: <paramref name="step"/> tells which one failed.</summary>
    private void Run(int generation, Func<long> step, Func<object?> work)
    {
        var supervisor = _supervisor;
        var self = Self;
        var rank = _spec.Rank;
        var (scheduler, closedLinkGrace) = (Context.System.Scheduler, _ring?.ClosedLinkGrace ?? TimeSpan.Zero);
        _thread.Post(() =>
        {
            object? answer;
            var delay = TimeSpan.Zero;
            try
            {
                answer = work();
            }
            catch (Exception e)
            {
                // A ring step that failed for a neighbour names the neighbour: it is the one to replace. A closed
                // link is told only after the cluster's own verdict on that rank's node could have come: restarting
                // at once would place a rank on a node that is dead but not yet known to be.
                answer = new RankWorkFailed(generation, (e as RingPeerException)?.Peer ?? rank, step(), e.Message, IsPermanent(e), Trainer.Runtime.DiskFull.Is(e),
                    (e as StartCheckpointRefusedException)?.Checkpoint);
                delay = e is RingPeerException { LinkClosed: true } ? closedLinkGrace : TimeSpan.Zero;
            }
            if (answer is not null && delay > TimeSpan.Zero)
            {
                scheduler.ScheduleTellOnce(delay, supervisor, answer, self); // stale, and dropped, once the generation has moved on
            }
            else if (answer is not null)
            {
                supervisor.Tell(answer, self);
            }
        });
    }

    private static bool IsPermanent(Exception e) =>
        e is CheckpointMismatchException or CorruptCheckpointException or StartCheckpointRefusedException or ArgumentException or NotSupportedException;

    /// <summary>The checkpoint a start was to resume from is corrupt (its message is the checkpoint's own).</summary>
    private sealed class StartCheckpointRefusedException(string checkpoint, CorruptCheckpointException inner) : Exception(inner.Message, inner)
    {
        public string Checkpoint { get; } = checkpoint;
    }
}
