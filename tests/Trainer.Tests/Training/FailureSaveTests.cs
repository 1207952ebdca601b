using Orchestrator.Trainer.Checkpointing;
using Orchestrator.Trainer.Data;
using Orchestrator.Trainer.Jobs;
using Orchestrator.Trainer.Tests.Support;
using Orchestrator.Trainer.Training;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Tests.Training;

public sealed class FailureSaveTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void An_exception_in_a_step_saves_the_last_consistent_state_before_it_propagates()
    {
        var dir = _temp.Sub("run");
        var step = 0;

        var error = Assert.Throws<TrainingFailedException>(() => TrainingRun.Execute(
            WithLoss((job, batch) => ++step == 17 ? throw new InvalidOperationException("data went bad") : job.Loss(batch)),
            Runs.Options(dir, steps: 40)));

        Assert.Equal("training failed at step 17: data went bad; state after step 16 is saved in iter_16", error.Message);
        var resumed = Runs.Execute(Runs.Options(dir, steps: 40));
        Assert.EndsWith("iter_16", resumed.ResumedFrom);
        Assert.Equal(Runs.Execute(Runs.Options(_temp.Sub("straight"), steps: 40)).WeightsSha256, resumed.WeightsSha256);
    }

    [Fact]
    public void A_NaN_loss_stops_training_before_the_step_is_applied()
    {
        var dir = _temp.Sub("run");
        var step = 0;

        var error = Assert.Throws<TrainingFailedException>(() => TrainingRun.Execute(
            WithLoss((job, batch) => ++step == 12 ? job.Loss(batch) * float.NaN : job.Loss(batch)),
            Runs.Options(dir, steps: 40)));

        Assert.IsType<NonFiniteLossException>(error.InnerException);
        Assert.StartsWith("training failed at step 12: loss is NaN at step 12", error.Message);
        Assert.Equal("iter_11", new CheckpointStore(Path.Combine(dir, "checkpoints"), new CheckpointNaming()).LatestPointer);
    }

    [Fact]
    public void A_failure_right_after_a_scheduled_save_does_not_save_again()
    {
        var dir = _temp.Sub("run");
        var step = 0;

        var error = Assert.Throws<TrainingFailedException>(() => TrainingRun.Execute(
            WithLoss((job, batch) => ++step == 11 ? throw new InvalidOperationException("boom") : job.Loss(batch)),
            Runs.Options(dir, steps: 40)));

        Assert.EndsWith("saved in iter_10", error.Message);
        Assert.Equal(["iter_10"], Directory.GetDirectories(Path.Combine(dir, "checkpoints")).Select(Path.GetFileName));
    }

    [Fact]
    public void A_stop_request_saves_and_reports_interrupted_and_a_rerun_finishes_identically()
    {
        var dir = _temp.Sub("run");
        using var stop = new CancellationTokenSource();

        var interrupted = TrainingRun.Execute(Runs.Job(), Runs.Options(dir, steps: 40), new RecordingObserver(step =>
        {
            if (step.Iteration == 23)
            {
                stop.Cancel();
            }
        }), stop.Token);
        var finished = Runs.Execute(Runs.Options(dir, steps: 40));

        Assert.Equal(RunOutcome.Interrupted, interrupted.Outcome);
        Assert.Equal(23, interrupted.Iteration);
        Assert.Equal("interrupt", interrupted.Saves[^1].Reason);
        Assert.EndsWith("iter_23", finished.ResumedFrom);
        Assert.Equal(Runs.Execute(Runs.Options(_temp.Sub("straight"), steps: 40)).WeightsSha256, finished.WeightsSha256);
    }

    private static Func<TrainingJob> WithLoss(Func<TrainingJob, Batch, Tensor> loss) => () =>
    {
        var inner = Runs.Job()();
        return new TrainingJob
        {
            Name = inner.Name,
            Model = inner.Model,
            Optimizer = inner.Optimizer,
            Data = inner.Data,
            LearningRate = inner.LearningRate,
            Loss = batch => loss(inner, batch),
        };
    };
}
