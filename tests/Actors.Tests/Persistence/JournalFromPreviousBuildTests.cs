using Orchestrator.Actors.Hosting;
using Akka.Actor;
using Akka.Persistence;
using Akka.TestKit.Xunit2;
using Orchestrator.Actors.Job;
using Orchestrator.Actors.Persistence;

namespace Orchestrator.Actors.Tests.Persistence;

/// <summary>
/// Fixtures/journal-932f50f holds a journal written by real runs of the build at commit 932f50f (the release
/// before the supervisor was split), one SQLite file shared by four work dirs (only their job-id files kept):
/// <list type="bullet">
/// <item>restarts: 2 ranks, 30 steps, a crash at step 15 and the process killed at step 25; rerun to finish;
/// rerun with 40 steps and a hang at step 35 (JobExtended, a hung rank, a second restart);</item>
/// <item>snapshot: 50 steps with a checkpoint every step, so the supervisor saved a snapshot at event 50;</item>
/// <item>failed: a NaN at step 7 with --max-restarts 0;</item>
/// <item>stopped: SIGTERM after the first checkpoint, so the job stopped with an interrupt checkpoint.</item>
/// </list>
/// Today's build must read every event and the snapshot back as those runs wrote them.
/// </summary>
public sealed class JournalFromPreviousBuildTests : TestKit
{
    private static readonly string Fixture = Path.Combine(AppContext.BaseDirectory, "Persistence", "Fixtures", "journal-932f50f");

    private readonly TempDirectory _temp;

    public JournalFromPreviousBuildTests()
        : this(CopyOfFixture())
    {
    }

    private JournalFromPreviousBuildTests(TempDirectory temp)
        : base(JournalJson.With(BootstrapSetup.Create().WithConfig(JournalSettings.SqliteAt(temp.Sub("journal.db")).ToConfig().WithFallback(OrchestratorSystem.Reference))))
    {
        _temp = temp;
    }

    [Fact]
    public async Task A_job_with_a_crash_a_killed_process_an_extension_and_a_hang_replays_event_for_event()
    {
        var history = await ReadAsync("restarts");

        Assert.Equal(
            [
                nameof(JobSubmitted), nameof(RanksStarted), nameof(FaultFired), nameof(RankFailed), nameof(CheckpointCommitted), nameof(RestartScheduled),
                nameof(RanksStarted), nameof(CheckpointCommitted), nameof(FaultFired), nameof(RanksStarted), nameof(CheckpointCommitted), nameof(JobCompleted),
                nameof(JobExtended), nameof(RanksStarted), nameof(FaultFired), nameof(RankFailed), nameof(RestartScheduled), nameof(RanksStarted),
                nameof(CheckpointCommitted), nameof(JobCompleted),
            ],
            history.Events.Select(e => e.GetType().Name));
        var submitted = Assert.IsType<JobSubmitted>(history.Events[0]);
        Assert.Equal(("mlp", 2, 30L, 10L), (submitted.Spec.Job, submitted.Spec.Ranks, submitted.Spec.Steps, submitted.Spec.Schedule.EveryIterations));
        Assert.Equal(["crash@step=15,rank=1", "kill-process@step=25"], submitted.Spec.Faults);
        Assert.Equal(new RankFailed(1, 1, 15, "injected crash on rank 1 at step 15", history.Events[3].At), history.Events[3]);
        Assert.Equal(new RestartScheduled(2, "all", 1, "iter_10", 10, 4, 200, history.Events[5].At), history.Events[5]);
        var resumed = Assert.IsType<RanksStarted>(history.Events[9]);
        Assert.Equal((3, 2, "iter_20", 20L, (string[]?)null), (resumed.Generation, resumed.Ranks, resumed.FromCheckpoint, resumed.FromStep, resumed.Nodes));
        Assert.Equal(new JobExtended(40, null, history.Events[12].At), history.Events[12]);
        Assert.Equal(new RankFailed(4, 0, 35, "rank 0 did not answer within 2 s during step 35 (hung)", history.Events[15].At), history.Events[15]);

        var state = history.State;
        Assert.Equal((JobStatus.Completed, 40L, 5, 2, 2), (state.Status, state.Step, state.Generation, state.Failures, state.Restarts.Length));
        Assert.Equal(["crash@step=15,rank=1", "kill-process@step=25,rank=0", "hang@step=35,rank=0"], state.FiredFaults);
        Assert.Equal("b20831ceae11a6f955b1e25ca216bf237df12a59dc717a354141b3cecfb9a963", state.FinalWeightsSha256);
        Assert.Equal(("iter_40", 40L, "final"), (state.LastCheckpoint!.Name, state.LastCheckpoint.Step, state.LastCheckpoint.Reason));
        Assert.Equal(40, state.Spec!.Steps);
    }

    [Fact]
    public async Task The_snapshot_of_the_previous_build_restores_the_state_its_events_replay_to()
    {
        var history = await ReadAsync("snapshot");
        var recovered = await RecoverWithSnapshotAsync("snapshot");

        Assert.Equal(53, history.Events.Count);
        Assert.Equal(50, recovered.SnapshotSequenceNr);
        Assert.Equal(3, recovered.EventsAfterSnapshot);
        var (replayed, restored) = (history.State, recovered.State);
        Assert.Equal((JobStatus.Completed, 50L, 1), (replayed.Status, replayed.Step, replayed.Generation));
        Assert.Equal("a72becd1d08f7d2633f86374de23d4c2802b992871d647da22bb387cf3db3f54", replayed.FinalWeightsSha256);
        Assert.Equal((replayed.Status, replayed.Step, replayed.Generation, replayed.Failures, replayed.FinalWeightsSha256, replayed.LastCheckpoint),
            (restored.Status, restored.Step, restored.Generation, restored.Failures, restored.FinalWeightsSha256, restored.LastCheckpoint));
        Assert.Equal((replayed.Spec!.Job, replayed.Spec.WorkDir, replayed.Spec.Steps, replayed.Spec.Keep, replayed.Spec.Schedule),
            (restored.Spec!.Job, restored.Spec.WorkDir, restored.Spec.Steps, restored.Spec.Keep, restored.Spec.Schedule));
    }

    [Fact]
    public async Task A_failed_job_replays_to_failed_with_its_reason_and_last_checkpoint()
    {
        var history = await ReadAsync("failed");

        Assert.Equal(
            [nameof(JobSubmitted), nameof(RanksStarted), nameof(FaultFired), nameof(RankFailed), nameof(CheckpointCommitted), nameof(JobFailed)],
            history.Events.Select(e => e.GetType().Name));
        var failed = Assert.IsType<JobFailed>(history.Events[^1]);
        Assert.Equal("iter_5", failed.LastCheckpoint);
        var state = history.State;
        Assert.Equal(JobStatus.Failed, state.Status);
        Assert.Equal("rank 0 failed at step 7: loss is NaN at step 7; restart limit reached (0 in 10 min); last good checkpoint: iter_5", state.FailureReason);
        // The run had --max-restarts 0, but the journal's JSON leaves out values equal to the type's default
        // (0, false), so this journal holds no MaxRestarts and any reader gets RestartPolicy's initializer.
        Assert.Equal(new RestartPolicy().MaxRestarts, state.Spec!.Restarts.MaxRestarts);
    }

    [Fact]
    public async Task A_stopped_job_replays_to_stopped_at_its_interrupt_checkpoint()
    {
        var history = await ReadAsync("stopped");

        Assert.Equal(
            [nameof(JobSubmitted), nameof(RanksStarted), nameof(CheckpointCommitted), nameof(CheckpointCommitted), nameof(CheckpointCommitted), nameof(JobStopped)],
            history.Events.Select(e => e.GetType().Name));
        var state = history.State;
        Assert.Equal((JobStatus.Stopped, 300L), (state.Status, state.Step));
        Assert.Equal(("iter_300", "interrupt"), (state.LastCheckpoint!.Name, state.LastCheckpoint.Reason));
        Assert.Equal(new JobStopped(300, "iter_300", history.Events[^1].At), history.Events[^1]);
    }

    private async Task<JobHistory> ReadAsync(string workDir)
    {
        var reader = Sys.ActorOf(JobHistoryReader.Props(WorkDirJournalId.Of(_temp.Sub(workDir))));
        reader.Tell(ReadHistory.Instance, TestActor);
        return await ExpectMsgAsync<JobHistory>(TimeSpan.FromSeconds(30));
    }

    private async Task<Recovered> RecoverWithSnapshotAsync(string workDir)
    {
        var id = WorkDirJournalId.Of(_temp.Sub(workDir));
        var reader = Sys.ActorOf(Props.Create(() => new SnapshotRecovery(id)));
        reader.Tell(ReadHistory.Instance, TestActor);
        return await ExpectMsgAsync<Recovered>(TimeSpan.FromSeconds(30));
    }

    private static TempDirectory CopyOfFixture()
    {
        var temp = new TempDirectory();
        foreach (var file in Directory.GetFiles(Fixture, "*", SearchOption.AllDirectories))
        {
            var copy = Path.Combine(temp.Path, Path.GetRelativePath(Fixture, file));
            Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
            File.Copy(file, copy);
        }
        return temp;
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            _temp.Dispose();
        }
    }

    private sealed record Recovered(long SnapshotSequenceNr, int EventsAfterSnapshot, JobState State);

    /// <summary>Recovers the way the supervisor does: the newest snapshot, then the events after it.</summary>
    private sealed class SnapshotRecovery : ReceivePersistentActor
    {
        private JobState _state = JobState.Empty;
        private long _snapshotAt;
        private int _events;

        public SnapshotRecovery(string persistenceId)
        {
            PersistenceId = persistenceId;
            Recover<SnapshotOffer>(offer =>
            {
                _state = (JobState)offer.Snapshot;
                _snapshotAt = offer.Metadata.SequenceNr;
            });
            Recover<JobEvent>(e =>
            {
                _state = _state.Apply(e);
                _events++;
            });
            Command<ReadHistory>(_ => Sender.Tell(new Recovered(_snapshotAt, _events, _state)));
        }

        public override string PersistenceId { get; }
    }
}
