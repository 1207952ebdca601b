using Orchestrator.Trainer.Checkpointing;
using Orchestrator.Trainer.Tests.Support;
using Orchestrator.Trainer.Training;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Tests.Training;

/// <summary>TorchSharp's schedulers restored by replaying their steps: the rates after a restore are the same bits.</summary>
public sealed class TorchSchedulerTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    private static readonly Dictionary<string, Func<optim.Optimizer, optim.lr_scheduler.LRScheduler>> Schedulers = new()
    {
        ["step"] = o => optim.lr_scheduler.StepLR(o, 7, 0.5),
        ["cosine"] = o => optim.lr_scheduler.CosineAnnealingLR(o, 20, 1e-4),
        ["linear"] = o => optim.lr_scheduler.LinearLR(o, 0.1, 1.0, 15),
        ["onecycle"] = o => optim.lr_scheduler.OneCycleLR(o, 0.1, 100),
        ["exponential"] = o => optim.lr_scheduler.ExponentialLR(o, 0.93),
    };

    public static TheoryData<string> Names => new(Schedulers.Keys);

    [Theory]
    [MemberData(nameof(Names))]
    public void A_scheduler_restored_mid_run_gives_the_same_rates_as_one_never_stopped(string name)
    {
        var straight = Rates(name, restoreAt: null);

        var restored = Rates(name, restoreAt: 13);

        Assert.Equal(straight, restored);
        Assert.True(straight.Distinct().Count() > 1, "the schedule should change the rate");
    }

    [Fact]
    public void A_checkpoint_of_another_schedule_is_refused()
    {
        using var optimizer = Optimizer();
        var saved = new TorchLearningRateScheduler(optimizer, o => optim.lr_scheduler.StepLR(o, 3, 0.5));
        for (var i = 0; i < 5; i++)
        {
            saved.Step();
        }
        var changed = new TorchLearningRateScheduler(optimizer, o => optim.lr_scheduler.StepLR(o, 3, 0.9));

        var error = Assert.Throws<CheckpointMismatchException>(() => changed.Restore(saved.Capture()));
        Assert.Contains("schedule changed", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_restart_puts_every_group_back_on_the_schedules_first_rate()
    {
        using var optimizer = Optimizer();
        var scheduler = new TorchLearningRateScheduler(optimizer, Schedulers["step"]);
        var first = optimizer.ParamGroups.Select(g => g.LearningRate).ToList();
        for (var i = 0; i < 20; i++)
        {
            scheduler.Step();
        }

        scheduler.Restart();

        Assert.Equal(first, optimizer.ParamGroups.Select(g => g.LearningRate));
        Assert.Equal(0, scheduler.StepsTaken);
    }

    [Fact]
    public void Resuming_a_job_without_its_scheduler_state_starts_the_schedule_over()
    {
        var first = new RecordingObserver();
        TrainingRun.Execute(FullJobs.Factory(("scheduler", "step")), Runs.Options(_temp.Path, steps: 12), first);
        var resumed = new RecordingObserver();

        TrainingRun.Execute(FullJobs.Factory(("scheduler", "step")), Runs.Options(_temp.Path, steps: 14) with { SkipSchedulerState = true }, resumed);

        Assert.NotEqual(first.Steps[0].LearningRate, first.Steps[^1].LearningRate);
        Assert.Equal(first.Steps[0].LearningRate, resumed.Steps[0].LearningRate);
    }

    /// <summary>Rates of both groups over 30 steps; at <paramref name="restoreAt"/> everything is rebuilt from the saved state.</summary>
    private static List<double> Rates(string name, int? restoreAt)
    {
        var optimizer = Optimizer();
        var scheduler = new TorchLearningRateScheduler(optimizer, Schedulers[name]);
        var rates = new List<double>();
        for (var i = 0; i < 30; i++)
        {
            if (i == restoreAt)
            {
                var state = scheduler.Capture();
                optimizer.Dispose();
                optimizer = Optimizer();
                scheduler = new TorchLearningRateScheduler(optimizer, Schedulers[name]);
                scheduler.Restore(state);
            }
            rates.AddRange(optimizer.ParamGroups.Select(g => g.LearningRate));
            scheduler.Step();
        }
        optimizer.Dispose();
        return rates;
    }

    private static optim.Optimizer Optimizer()
    {
        var a = new TorchSharp.Modules.Parameter(zeros(2));
        var b = new TorchSharp.Modules.Parameter(zeros(2));
        return new AdamW([new TorchSharp.Modules.AdamW.ParamGroup([a], 0.05), new TorchSharp.Modules.AdamW.ParamGroup([b], 0.01)]);
    }
}
