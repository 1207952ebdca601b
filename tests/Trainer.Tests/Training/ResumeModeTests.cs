using Orchestrator.Trainer.Checkpointing;
using Orchestrator.Trainer.Jobs;
using Orchestrator.Trainer.Tests.Support;
using Orchestrator.Trainer.Training;

namespace Orchestrator.Trainer.Tests.Training;

public sealed class ResumeModeTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Auto_resume_skips_a_corrupt_newest_checkpoint_and_uses_the_one_before()
    {
        var dir = _temp.Sub("run");
        Runs.Execute(Runs.Options(dir, steps: 30));
        File.WriteAllText(Path.Combine(dir, "checkpoints", "iter_30", "model.weights"), "x");
        var observer = new RecordingObserver();

        var result = TrainingRun.Execute(Runs.Job(), Runs.Options(dir, steps: 30), observer);

        Assert.EndsWith("iter_20", result.ResumedFrom);
        Assert.Contains(observer.Notes, n => n.Contains("iter_30: model.weights is truncated", StringComparison.Ordinal));
        Assert.Equal(Runs.Execute(Runs.Options(_temp.Sub("straight"), steps: 30)).WeightsSha256, result.WeightsSha256);
    }

    [Fact]
    public void A_finished_run_is_not_run_again()
    {
        var dir = _temp.Sub("run");
        var first = Runs.Execute(Runs.Options(dir, steps: 20));

        var again = Runs.Execute(Runs.Options(dir, steps: 20));

        Assert.Equal(RunOutcome.AlreadyComplete, again.Outcome);
        Assert.Equal(first.WeightsSha256, again.WeightsSha256);
    }

    [Fact]
    public void Resume_from_an_explicit_path_continues_from_that_checkpoint()
    {
        var dir = _temp.Sub("run");
        Runs.Execute(Runs.Options(dir, steps: 30));
        var other = _temp.Sub("other");

        var result = Runs.Execute(Runs.Options(other, steps: 30) with { Resume = ResumeMode.Path, ResumePath = Path.Combine(dir, "checkpoints", "iter_10") });

        Assert.EndsWith("iter_10", result.ResumedFrom);
        Assert.Equal(Runs.Execute(Runs.Options(_temp.Sub("straight"), steps: 30)).WeightsSha256, result.WeightsSha256);
    }

    [Fact]
    public void Resume_none_refuses_a_work_dir_with_checkpoints_unless_asked_to_delete_them()
    {
        var dir = _temp.Sub("run");
        Runs.Execute(Runs.Options(dir, steps: 10));

        var refused = Assert.Throws<ArgumentException>(() => Runs.Execute(Runs.Options(dir, steps: 10) with { Resume = ResumeMode.None }));
        var fresh = Runs.Execute(Runs.Options(dir, steps: 10) with { Resume = ResumeMode.None, DeleteExisting = true });

        Assert.Contains("--delete-existing", refused.Message);
        Assert.Null(fresh.ResumedFrom);
        Assert.Equal(RunOutcome.Completed, fresh.Outcome);
    }

    [Fact]
    public void Delete_existing_is_refused_outside_a_fresh_start() =>
        Assert.Throws<ArgumentException>(() => Runs.Execute(Runs.Options(_temp.Path, steps: 5) with { DeleteExisting = true }));

    [Fact]
    public void Load_from_takes_weights_only_and_starts_counting_from_zero()
    {
        var source = _temp.Sub("pretrain");
        Runs.Execute(Runs.Options(source, steps: 20));
        var pretrained = new CheckpointStore(Path.Combine(source, "checkpoints"), new CheckpointNaming()).Load(Path.Combine(source, "checkpoints", "iter_20"));
        var observer = new RecordingObserver();

        var result = TrainingRun.Execute(Runs.Job(), Runs.Options(_temp.Sub("finetune"), steps: 5) with { LoadFrom = pretrained.Path }, observer);

        Assert.Equal([1L, 2, 3, 4, 5], observer.Steps.Select(s => s.Iteration));
        Assert.Null(result.ResumedFrom);
        Assert.NotEqual(pretrained.Info.WeightsSha256, result.WeightsSha256);
        var untrained = TrainingRun.Execute(Runs.Job(), Runs.Options(_temp.Sub("scratch"), steps: 5));
        Assert.NotEqual(untrained.WeightsSha256, result.WeightsSha256);
    }

    [Fact]
    public void Skipping_optimizer_state_on_resume_changes_the_outcome_and_keeps_counters()
    {
        var dir = _temp.Sub("run");
        Runs.Execute(Runs.Options(dir, steps: 20));
        var copy = _temp.Sub("copy");
        CopyDirectory(dir, copy);

        var withState = Runs.Execute(Runs.Options(dir, steps: 30));
        var withoutState = Runs.Execute(Runs.Options(copy, steps: 30) with { SkipOptimizerState = true });

        Assert.Equal(30, withoutState.Iteration);
        Assert.NotEqual(withState.WeightsSha256, withoutState.WeightsSha256);
    }

    [Fact]
    public void Skipping_scheduler_state_restarts_the_learning_rate_schedule()
    {
        var dir = _temp.Sub("run");
        TrainingRun.Execute(Runs.Job(CnnJob.Name), Runs.Options(dir, steps: 210) with { Schedule = new(EveryIterations: 210) });
        var observer = new RecordingObserver();

        TrainingRun.Execute(Runs.Job(CnnJob.Name), Runs.Options(dir, steps: 212) with { SkipSchedulerState = true }, observer);

        Assert.Equal([2e-3, 2e-3], observer.Steps.Select(s => s.LearningRate)); // the step decay starts over; with its state the rate would be 1e-3
    }

    [Fact]
    public void A_checkpoint_of_another_job_is_refused_with_a_clear_message()
    {
        var dir = _temp.Sub("run");
        Runs.Execute(Runs.Options(dir, steps: 10));

        var error = Assert.Throws<CheckpointMismatchException>(() => Runs.Execute(Runs.Options(dir, steps: 20), CnnJob.Name));

        Assert.Equal("checkpoint iter_10 is of job 'mlp', not 'cnn'; use a work dir of this job or --load-from for weights only", error.Message);
    }

    [Fact]
    public void Keep_limits_the_checkpoints_on_disk_while_training()
    {
        var dir = _temp.Sub("run");

        Runs.Execute(Runs.Options(dir, steps: 60) with { Keep = 2 });

        Assert.Equal(["iter_60", "iter_50"], Directory.GetDirectories(Path.Combine(dir, "checkpoints")).Select(Path.GetFileName).OrderDescending());
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
