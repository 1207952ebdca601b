using System.Runtime.InteropServices;
using Akka.Actor;
using Orchestrator.Actors.Cluster;
using Orchestrator.Actors.Job;
using Orchestrator.Actors.Job.Placement;
using Orchestrator.Actors.Protocol;
using Orchestrator.Actors.Tests.Support;
using Orchestrator.Trainer.Checkpointing;
using Orchestrator.Trainer.Distributed;
using Orchestrator.Trainer.Jobs;
using Orchestrator.Trainer.Training;

namespace Orchestrator.Actors.Tests.Job;

public sealed class JobSupervisorTests() : JobTestKit(new TempDirectory())
{
    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public async Task Crashes_hangs_and_NaNs_at_several_steps_do_not_change_the_trained_weights(int ranks)
    {
        // A global batch of 48 divides among 2, 3 and 4 ranks.
        JobSpec Divisible(JobSpec spec) => spec with { JobOptions = spec.JobOptions with { BatchSize = 48 } };
        var clean = await RunAsync(Divisible(Spec("clean", ranks: ranks)));
        var faulty = Divisible(Spec("faulty", ranks: ranks, faults: ["crash@step=13,rank=1", "crash@step=21,rank=0", "nan@step=24,rank=1", $"hang@step=33,rank={ranks - 1}"]));

        var result = await RunAsync(faulty);
        var history = await HistoryAsync(faulty);

        Assert.Equal(JobOutcome.Completed, clean.Outcome);
        Assert.Equal(JobOutcome.Completed, result.Outcome);
        Assert.Equal(clean.WeightsSha256, result.WeightsSha256);
        var failures = history.Events.OfType<RankFailed>().ToList();
        Assert.Equal(4, failures.Count);
        Assert.Contains(failures, f => f.Rank == ranks - 1 && f.Reason.Contains("(hung)", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Reason.Contains("loss is NaN", StringComparison.Ordinal));
        var restarts = history.Events.OfType<RestartScheduled>().ToList();
        Assert.Contains(restarts, r => r.Mode == "one" && r.StepsRedone == 0); // the crash at step 21 came right after iter_20
        Assert.Contains(restarts, r => r.Mode == "all" && r.StepsRedone > 0);
    }

    [Fact]
    public async Task One_rank_through_the_actors_trains_exactly_what_the_single_process_loop_trains()
    {
        var spec = Spec("actors", job: MlpJob.Name, ranks: 1);
        var direct = TrainingRun.Execute(
            JobCatalog.Factory(MlpJob.Name, spec.JobOptions),
            new RunOptions { WorkDir = Temp.Sub("direct"), Steps = spec.Steps, Seed = spec.JobOptions.Seed, Threads = 1, Schedule = spec.Schedule });

        var viaActors = await RunAsync(spec);

        Assert.Equal(direct.WeightsSha256, viaActors.WeightsSha256);
    }

    [Fact]
    public async Task One_rank_running_ahead_stops_exactly_at_checkpoints_faults_and_the_last_step()
    {
        // A one-rank job steps on without waiting for the supervisor; the windows must still end where the
        // supervisor acts, so the checkpoints, the failure and the final weights are those of a step-by-step run.
        var clean = await RunAsync(Spec("clean", job: MlpJob.Name, ranks: 1, steps: 95, every: 7));
        var faulty = Spec("faulty", job: MlpJob.Name, ranks: 1, steps: 95, every: 7, faults: ["crash@step=30,rank=0", "nan@step=61,rank=0"]);

        var result = await RunAsync(faulty);
        var history = await HistoryAsync(faulty);

        Assert.Equal(JobOutcome.Completed, result.Outcome);
        Assert.Equal(clean.WeightsSha256, result.WeightsSha256);
        Assert.Equal([30L, 61L], history.Events.OfType<RankFailed>().Select(f => f.Step));
        var saved = history.Events.OfType<CheckpointCommitted>().Where(c => c.Reason == "schedule").Select(c => c.Step).Distinct().Order();
        Assert.Equal(Enumerable.Range(1, 13).Select(i => i * 7L), saved);
    }

    [Fact]
    public async Task Two_ranks_match_one_rank_within_float_rounding_for_the_same_global_batch()
    {
        var one = Spec("r1", job: MlpJob.Name, ranks: 1, steps: 60);
        var two = Spec("r2", job: MlpJob.Name, ranks: 2, steps: 60);

        var a = await RunAsync(one);
        var b = await RunAsync(two);

        // Same data, same global batch of 64: only the order of float additions differs (mean of two
        // half-batch means against one mean), so weights agree to rounding, not bit for bit.
        Assert.NotEqual(a.WeightsSha256, b.WeightsSha256);
        var difference = MaxAbsDifference(FinalModel(one), FinalModel(two));
        Assert.True(difference < 1e-4, $"largest weight difference {difference}");
    }

    [Fact]
    public async Task Saved_BatchNorm_statistics_are_the_average_of_the_ranks_statistics()
    {
        var spec = Spec("bn", ranks: 2, steps: 10, every: 10);
        await RunAsync(spec);
        var saved = FinalModel(spec).Where(t => t.Key.Contains("running_", StringComparison.Ordinal)).OrderBy(t => t.Key, StringComparer.Ordinal)
            .SelectMany(t => MemoryMarshal.Cast<byte, float>(t.Value.Bytes.Span).ToArray()).ToArray();

        // Replay the same ten steps by hand with two replicas, without actors.
        var workers = Enumerable.Range(0, 2).Select(rank => RankWorker.Create(
            new RankSpec(spec.Job, spec.JobOptions, rank, 2, 1, Temp.Sub("replay"), spec.NameTemplate, 0))).ToList();
        for (var step = 0; step < 10; step++)
        {
            var local = workers.Select(w => w.ComputeGradients(null, CancellationToken.None)).ToList();
            var averaged = GradientAverager.Average(local.Select(l => l.Values).ToList());
            workers.ForEach(w => w.ApplyGradients(averaged, local.Sum(l => l.Samples)));
        }
        var perRank = workers.Select(w => w.ExportBuffers()).ToList();
        workers.ForEach(w => w.Dispose());

        Assert.NotEqual(perRank[0], perRank[1]);
        Assert.Equal(GradientAverager.Average(perRank), saved);
    }

    [Fact]
    public async Task Two_ranks_starting_each_step_on_the_last_average_train_report_and_save_what_step_by_step_replay_does()
    {
        // The supervisor starts a step as the last average of the one before leaves, before the ranks report
        // it applied: every step must still be reported once, in order, with the mean of that step's losses,
        // the schedule's checkpoints must fall where they fall, and the weights be those of a replay by hand.
        var spec = Spec("overlap", job: MlpJob.Name, ranks: 2, steps: 23, every: 5);
        var reporter = CreateTestProbe();

        var result = await RunAsync(spec, reporter.Ref);
        var history = await HistoryAsync(spec);
        var reported = new List<StepReport>();
        while (reported.Count == 0 || reported[^1].Iteration < spec.Steps)
        {
            var progress = (ProgressStep)await reporter.FishForMessageAsync(m => m is ProgressStep, TimeSpan.FromSeconds(10));
            reported.Add(progress.Step);
        }

        var workers = Enumerable.Range(0, 2).Select(rank => RankWorker.Create(
            new RankSpec(spec.Job, spec.JobOptions, rank, 2, 1, Temp.Sub("replay"), spec.NameTemplate, 0))).ToList();
        var losses = new List<double>();
        for (var step = 0; step < spec.Steps; step++)
        {
            var local = workers.Select(w => w.ComputeGradients(null, CancellationToken.None)).ToList();
            losses.Add(local.Select(l => l.Loss).Average());
            var averaged = GradientAverager.Average(local.Select(l => l.Values).ToList());
            workers.ForEach(w => w.ApplyGradients(averaged, local.Sum(l => l.Samples)));
        }
        var replayed = workers[0].WeightsDigest();
        workers.ForEach(w => w.Dispose());

        Assert.Equal(JobOutcome.Completed, result.Outcome);
        Assert.Equal(Enumerable.Range(1, 23).Select(i => (long)i), reported.Select(r => r.Iteration));
        Assert.Equal(losses, reported.Select(r => r.Loss));
        Assert.Equal([5L, 10, 15, 20, 23], history.Events.OfType<CheckpointCommitted>().Select(c => c.Step));
        Assert.Equal(replayed, result.WeightsSha256);
    }

    [Fact]
    public async Task Two_ranks_saving_every_epoch_save_at_each_epochs_last_step()
    {
        // Where an epoch ends only the ranks' step ends tell, so such a schedule never starts a step early.
        var spec = Spec("epochs", job: MlpJob.Name, ranks: 2, steps: 20) with { Schedule = new CheckpointSchedule(EveryEpochs: 1) };

        var result = await RunAsync(spec);
        var history = await HistoryAsync(spec);

        Assert.Equal(JobOutcome.Completed, result.Outcome);
        var perEpoch = 512L / MlpJob.DefaultBatchSize; // the spec's 512 samples in global batches of 64
        Assert.Equal([perEpoch, 2 * perEpoch, 20L], history.Events.OfType<CheckpointCommitted>().Select(c => c.Step));
    }

    [Fact]
    public async Task Past_the_restart_budget_the_job_fails_naming_the_reason_and_the_last_good_checkpoint()
    {
        var spec = Spec("budget", ranks: 2, steps: 40, faults: ["crash@step=12,rank=1", "crash@step=14,rank=0", "crash@step=16,rank=1"]) with
        {
            Restarts = new RestartPolicy { MaxRestarts = 2, BaseDelay = TimeSpan.FromMilliseconds(30) },
        };

        var result = await RunAsync(spec);
        var history = await HistoryAsync(spec);

        Assert.Equal(JobOutcome.Failed, result.Outcome);
        Assert.Equal("rank 1 failed at step 16: injected crash on rank 1 at step 16; restart limit reached (2 in 10 min); last good checkpoint: iter_10", result.Message);
        Assert.Equal([30.0, 60.0], history.Events.OfType<RestartScheduled>().Select(r => r.DelayMilliseconds));
        Assert.Equal(JobStatus.Failed, history.State.Status);
    }

    [Fact]
    public async Task A_stop_request_checkpoints_stops_and_a_new_run_finishes_identically()
    {
        var clean = await RunAsync(Spec("clean", steps: 300, every: 100));
        var spec = Spec("stopped", steps: 300, every: 100);
        var reporter = CreateTestProbe();
        var supervisor = Sys.ActorOf(JobSupervisor.Props(spec, reporter.Ref));
        supervisor.Tell(RunJob.Instance, TestActor);
        await reporter.FishForMessageAsync(m => m is ProgressStep { Step.Iteration: 50 }, JobLimit);
        supervisor.Tell(StopJob.Instance);

        var stopped = await ExpectMsgAsync<JobFinished>(JobLimit);
        var resumed = await RunAsync(spec);

        Assert.Equal(JobOutcome.Stopped, stopped.Outcome);
        Assert.True(stopped.Step >= 50, $"stopped at {stopped.Step}");
        Assert.True(Directory.Exists(Path.Combine(spec.CheckpointDirectory, $"iter_{stopped.Step}")));
        Assert.Equal(clean.WeightsSha256, resumed.WeightsSha256);
    }

    [Fact]
    public async Task A_supervisor_failure_no_handler_expects_ends_the_job_in_one_line_and_a_rerun_resumes_identically()
    {
        var clean = await RunAsync(Spec("clean", steps: 200));
        var spec = Spec("failing", steps: 200);
        var reporter = CreateTestProbe();
        var supervisor = Sys.ActorOf(JobSupervisor.Props(spec, reporter.Ref));
        Watch(supervisor);
        supervisor.Tell(RunJob.Instance, TestActor);
        await reporter.FishForMessageAsync(m => m is ProgressSaved { Save.Name: "iter_20" }, JobLimit);
        // A folder where the cluster's shared-directory probe writes its file: the probe, run when a member
        // joins, throws an IOException that no handler of the supervisor expects.
        var obstruction = Directory.CreateDirectory(Path.Combine(spec.CheckpointDirectory, DirectoryProbe.FileName + ".tmp"));
        supervisor.Tell(new MembersChanged([new NodeInfo("akka.tcp://orchestrator@127.0.0.1:1", ["cpu"])], []));

        var failed = await ExpectMsgAsync<JobFinished>(TimeSpan.FromSeconds(10));
        await ExpectTerminatedAsync(supervisor, TimeSpan.FromSeconds(10));
        obstruction.Delete();
        var resumed = await RunAsync(spec);

        Assert.Equal(JobOutcome.Failed, failed.Outcome);
        Assert.Matches(@"^the job's supervisor failed at step \d+ \((IOException|UnauthorizedAccessException): [^\n]*\); the committed checkpoints are intact: rerun to resume from iter_\d+$", failed.Message);
        var store = new CheckpointStore(spec.CheckpointDirectory, new CheckpointNaming());
        Assert.True(store.Verify(Path.Combine(spec.CheckpointDirectory, "iter_20")).IsValid);
        Assert.Equal(JobOutcome.Completed, resumed.Outcome);
        Assert.Equal(clean.WeightsSha256, resumed.WeightsSha256);
    }

    [Fact]
    public async Task A_finished_job_is_not_run_again_and_every_journalled_checkpoint_is_durable()
    {
        var spec = Spec("done", steps: 30);
        var first = await RunAsync(spec);

        var again = await RunAsync(spec);
        var history = await HistoryAsync(spec);

        Assert.Equal(JobOutcome.AlreadyComplete, again.Outcome);
        Assert.Equal(first.WeightsSha256, again.WeightsSha256);
        var store = new CheckpointStore(spec.CheckpointDirectory, new CheckpointNaming());
        var committed = history.Events.OfType<CheckpointCommitted>().ToList();
        Assert.Equal([10L, 20, 30], committed.Select(c => c.Step));
        Assert.All(committed, c => Assert.True(store.Verify(c.Path).IsValid));
        Assert.Equal(committed[^1].WeightsSha256, first.WeightsSha256);
    }

    [Fact]
    public async Task Retention_keeps_the_newest_and_never_the_checkpoint_the_run_resumed_from()
    {
        var first = Spec("keep", steps: 20) with { Keep = 1 };
        await RunAsync(first);

        var extended = await RunAsync(first with { Steps = 40 });

        Assert.Equal(JobOutcome.Completed, extended.Outcome);
        Assert.Equal(["iter_20", "iter_40"], Directory.GetDirectories(first.CheckpointDirectory).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    private IReadOnlyList<KeyValuePair<string, Trainer.Tensors.HostTensor>> FinalModel(JobSpec spec)
    {
        var store = new CheckpointStore(spec.CheckpointDirectory, new CheckpointNaming());
        return store.LoadLatestValid().Checkpoint!.Components[ModelCheckpointable.ComponentName].Tensors;
    }

    private static double MaxAbsDifference(
        IReadOnlyList<KeyValuePair<string, Trainer.Tensors.HostTensor>> a, IReadOnlyList<KeyValuePair<string, Trainer.Tensors.HostTensor>> b) =>
        a.Zip(b, (x, y) => MemoryMarshal.Cast<byte, float>(x.Value.Bytes.Span).ToArray()
            .Zip(MemoryMarshal.Cast<byte, float>(y.Value.Bytes.Span).ToArray(), (p, q) => Math.Abs((double)p - q))
            .Max()).Max();
}
