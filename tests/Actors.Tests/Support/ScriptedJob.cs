using Akka.Actor;
using Akka.TestKit;
using Orchestrator.Actors.Job;
using Orchestrator.Actors.Protocol;

namespace Orchestrator.Actors.Tests.Support;

/// <summary>
/// A job supervisor whose ranks are played by the test (see <see cref="ProbeRanks"/>), with the rank side of
/// the protocol written out once: start, a step, a checkpoint. Each helper expects exactly the messages the
/// supervisor sends at that point, in order, and answers them as well-behaved ranks would; a test departs
/// from the script (a failure, a silence, a late answer) by answering through <see cref="Answer"/> itself.
/// </summary>
public sealed class ScriptedJob
{
    /// <summary>What every replica reports as its weights: equal, so the supervisor sees no divergence.</summary>
    public const string Weights = "5d41402abc4b2a76b9719d911017c592aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

    /// <summary>How long any one expected message may take: generous for a loaded machine, never waited out on success.</summary>
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);

    public ScriptedJob(JobSpec spec, IActorRef supervisor, ProbeRanks ranks, TestProbe reporter, TestProbe requester)
    {
        Spec = spec;
        Supervisor = supervisor;
        Ranks = ranks;
        Reporter = reporter;
        Requester = requester;
        World = spec.Ranks;
    }

    public JobSpec Spec { get; }
    private (TestProbe Probe, IActorRef? StandIn)? _lastAnswer;

    public IActorRef Supervisor { get; }
    public ProbeRanks Ranks { get; }

    /// <summary>Gets the supervisor's Progress* messages.</summary>
    public TestProbe Reporter { get; }

    /// <summary>Sent <see cref="RunJob"/>; gets <see cref="JobFinished"/>.</summary>
    public TestProbe Requester { get; }

    /// <summary>The generation the ranks were last started in (read from the supervisor's StartRank).</summary>
    public int Generation { get; private set; }

    public int World { get; set; }

    /// <summary>Epochs the ranks have reported ended so far.</summary>
    public long Epoch { get; private set; }

    /// <summary>Rank <paramref name="rank"/>'s gradients at <paramref name="step"/>: different per rank and per step, so an average tells whose were in it.</summary>
    public static float[] GradientsOf(int rank, long step) => [rank + 1, (rank + 1) * 10f, step];

    /// <summary>Answers as rank <paramref name="rank"/>: through its current stand-in, which passes it to the supervisor.</summary>
    public void Answer(int rank, object answer)
    {
        _lastAnswer = (Ranks[rank], Ranks[rank].LastSender);
        Ranks[rank].Reply(answer);
    }

    public async Task<StartRank> ExpectStartAsync(int rank)
    {
        var start = await Ranks[rank].ExpectMsgAsync<StartRank>(Wait);
        Generation = start.Generation;
        return start;
    }

    public void Ready(int rank, long step) => Answer(rank, new RankReady(Generation, rank, step, BatchesPerEpoch: 100, Weights, []));

    /// <summary>Every rank is created and started in a new generation, and reports ready at <paramref name="step"/>.</summary>
    public async Task<StartRank[]> StartAllAsync(long step = 0)
    {
        var starts = new StartRank[World];
        for (var rank = 0; rank < World; rank++)
        {
            starts[rank] = await ExpectStartAsync(rank);
        }
        Assert.All(starts, s => Assert.Equal(starts[0], s));
        for (var rank = 0; rank < World; rank++)
        {
            Ready(rank, step);
        }
        return starts;
    }

    /// <summary>One step of every rank: gradients in, their average back, each rank reports it applied.</summary>
    /// <returns>The averaged gradients every rank received.</returns>
    public async Task<float[]> StepAsync(long step, bool epochEnded = false)
    {
        if (World == 1)
        {
            var alone = await Ranks[0].ExpectMsgAsync<ComputeGradients>(c => c.Generation == Generation && c.Step == step && c.Alone, Wait);
            Assert.Equal(step, alone.LastStep);
            Applied(0, step, epochEnded);
            return [];
        }
        await ComputeAsync(step);
        return await FinishStepAsync(step, epochEnded);
    }

    /// <summary>The rest of a step every rank was told to compute: gradients in, averages back, step ends.</summary>
    public async Task<float[]> FinishStepAsync(long step, bool epochEnded = false)
    {
        for (var rank = 0; rank < World; rank++)
        {
            SendGradients(rank, step);
        }
        var averaged = await AveragesAsync(step);
        for (var rank = 0; rank < World; rank++)
        {
            Applied(rank, step, epochEnded);
        }
        return averaged;
    }

    /// <summary>Every rank is told to compute <paramref name="step"/> (nothing answered yet).</summary>
    public async Task ComputeAsync(long step)
    {
        for (var rank = 0; rank < World; rank++)
        {
            var compute = await Ranks[rank].ExpectMsgAsync<ComputeGradients>(c => c.Generation == Generation && c.Step == step && !c.Alone, Wait);
            Assert.Null(compute.Fault);
        }
    }

    public void SendGradients(int rank, long step)
    {
        var values = GradientsOf(rank, step);
        Answer(rank, new GradientChunk(Generation, rank, step, 0, 1, values.Length, new ArraySegment<float>(values), Loss: rank + 1, Samples: 8));
    }

    /// <summary>Every rank gets the same averaged gradients of <paramref name="step"/>; returns them.</summary>
    public async Task<float[]> AveragesAsync(long step)
    {
        float[]? first = null;
        for (var rank = 0; rank < World; rank++)
        {
            var chunk = await Ranks[rank].ExpectMsgAsync<AveragedChunk>(c => c.Generation == Generation && c.Step == step, Wait);
            Assert.Equal(1, chunk.Count);
            var values = chunk.Values.ToArray(); // a view of the supervisor's array, written again next step
            first ??= values;
            Assert.Equal(first, values);
        }
        return first!;
    }

    public void Applied(int rank, long step, bool epochEnded = false)
    {
        if (epochEnded && rank == World - 1)
        {
            Epoch++;
        }
        Answer(rank, new StepApplied(Generation, rank, step, Epoch, epochEnded, LearningRate: 0.01, Loss: 1.0 / step, Samples: 8));
    }

    /// <summary>The checkpoint barrier at <paramref name="step"/>: buffers exported, averaged and imported by every rank; returns rank 0's save order.</summary>
    public async Task<SaveCheckpoint> CheckpointBarrierAsync(long step)
    {
        for (var rank = 0; rank < World; rank++)
        {
            await Ranks[rank].ExpectMsgAsync<ExportBuffers>(e => e.Generation == Generation && e.Step == step, Wait);
            Answer(rank, new BuffersExported(Generation, rank, step, [rank * 2f]));
        }
        var mean = (World - 1) * 1f; // of 0, 2, 4, ...
        for (var rank = 0; rank < World; rank++)
        {
            var import = await Ranks[rank].ExpectMsgAsync<ImportBuffers>(i => i.Generation == Generation && i.Step == step, Wait);
            Assert.Equal([mean], import.Values);
            Answer(rank, new BuffersImported(Generation, rank, step, Weights));
        }
        return await Ranks[0].ExpectMsgAsync<SaveCheckpoint>(s => s.Generation == Generation && s.Step == step, Wait);
    }

    /// <summary>Rank 0 reports its snapshot taken (training may go on while it is written).</summary>
    public void Captured(SaveCheckpoint save) => Answer(0, new CheckpointCaptured(save.Generation, save.Step, StallMilliseconds: 1));

    /// <summary>Rank 0 writes the checkpoint for real and reports it durable; returns the report.</summary>
    public CheckpointWritten Written(SaveCheckpoint save)
    {
        var written = HandWrittenCheckpoint.Commit(Spec, save.Step, save.Reason.ToString()!, Weights);
        Answer(0, written);
        return written;
    }

    /// <summary>A whole checkpoint at <paramref name="step"/>: barrier, capture, write; returns rank 0's report.</summary>
    public async Task<CheckpointWritten> CheckpointAsync(long step)
    {
        var save = await CheckpointBarrierAsync(step);
        Captured(save);
        return Written(save);
    }

    /// <summary>The last step is done: the final save is taken and the job completes.</summary>
    public async Task<JobFinished> CompleteAsync(long step)
    {
        await CheckpointAsync(step);
        return await Requester.ExpectMsgAsync<JobFinished>(Wait);
    }

    /// <summary>
    /// Stops the job while its ranks start (or wait out a back-off), which ends it at once: for tests whose
    /// point is made once the restart is seen, so no later timeout adds to the journal they read.
    /// </summary>
    public async Task StopWhileStartingAsync()
    {
        Supervisor.Tell(StopJob.Instance);
        Assert.Equal(JobOutcome.Stopped, (await Requester.ExpectMsgAsync<JobFinished>(Wait)).Outcome);
    }

    /// <summary>The next progress message of type <typeparamref name="T"/> (notes, steps and saves before it pass).</summary>
    public async Task<T> ReportedAsync<T>(Func<T, bool>? matching = null)
    {
        var found = await Reporter.FishForMessageAsync(m => m is T t && (matching?.Invoke(t) ?? true), Wait);
        return (T)found;
    }

    /// <summary>
    /// Answers once the supervisor has handled every message sent to it before (and persisted what they
    /// caused: a persisting actor holds later messages back until its events are written).
    /// </summary>
    public async Task<JobLiveStatus> SettledAsync(TestProbe asker)
    {
        // The question goes the way the last answer went (through its stand-in), so it cannot overtake it.
        if (_lastAnswer is var (probe, standIn) && standIn is not null)
        {
            standIn.Tell(new AskStatusFor(asker.Ref), probe.Ref);
        }
        else
        {
            Supervisor.Tell(GetJobStatus.Instance, asker.Ref);
        }
        return await asker.ExpectMsgAsync<JobLiveStatus>(Wait);
    }

    /// <summary>
    /// Answers once the supervisor has passed every cluster message sent to it before on to its placement
    /// watch, the watch has taken them in, and the supervisor has taken in the watch's answers.
    /// </summary>
    public async Task<JobLiveStatus> PlacementSettledAsync(TestProbe asker)
    {
        await SettledAsync(asker); // the news is in the watch's mailbox
        // Identify is answered in mailbox order: after the watch handled the news and told the supervisor.
        await asker.Sys.ActorSelection(Supervisor.Path / "placement").ResolveOne(Wait);
        return await SettledAsync(asker); // the watch's answers are handled
    }
}
