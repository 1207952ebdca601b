using Orchestrator.Trainer.Training;
using Prometheus;

namespace Orchestrator.Actors.Metrics;

/// <summary>
/// A job's Prometheus metrics, labelled by job, in the process's default registry: whatever serves
/// <c>/metrics</c> in this process (see <c>train --metrics-port</c>) exposes them.
/// </summary>
public sealed class JobMetrics(string job)
{
    private static readonly Gauge Step = Prometheus.Metrics.CreateGauge("orchestrator_step", "Last completed training step.", "job");
    private static readonly Gauge Loss = Prometheus.Metrics.CreateGauge("orchestrator_loss", "Loss of the last step (mean over ranks).", "job");
    private static readonly Gauge StepsPerSecond = Prometheus.Metrics.CreateGauge("orchestrator_steps_per_second", "Training speed at the last step.", "job");
    private static readonly Gauge SamplesPerSecond = Prometheus.Metrics.CreateGauge("orchestrator_samples_per_second", "Samples (global batch) per second at the last step.", "job");
    private static readonly Gauge RanksAlive = Prometheus.Metrics.CreateGauge("orchestrator_ranks_alive", "Ranks started and not failed.", "job");
    private static readonly Gauge LastCommittedStep = Prometheus.Metrics.CreateGauge("orchestrator_last_committed_step", "Step of the newest durable checkpoint.", "job");
    private static readonly Gauge CheckpointStall = Prometheus.Metrics.CreateGauge("orchestrator_checkpoint_stall_seconds", "Time the step loop was blocked by the last checkpoint.", "job");
    private static readonly Gauge CheckpointWrite = Prometheus.Metrics.CreateGauge("orchestrator_checkpoint_write_seconds", "Time the last checkpoint took to write and commit.", "job");
    private static readonly Gauge CheckpointBytes = Prometheus.Metrics.CreateGauge("orchestrator_checkpoint_bytes", "Size of the last checkpoint.", "job");
    private static readonly Gauge GradientSync = Prometheus.Metrics.CreateGauge(
        "orchestrator_gradient_sync_seconds", "Last step's gradient synchronisation (R > 1): through the supervisor, from the first rank's gradients arriving to the last average sent; around the ring, the all-reduce on the rank that reported the step last.", "job");
    private static readonly Counter Restarts = Prometheus.Metrics.CreateCounter("orchestrator_restarts_total", "Restarts after rank failures.", "job");
    private static readonly Counter RankFailures = Prometheus.Metrics.CreateCounter("orchestrator_rank_failures_total", "Rank failures, by rank.", "job", "rank");

    // This job's series of the per-step gauges, looked up once: WithLabels builds a label array and
    // searches for the series on every call, and these are set for every step.
    private readonly Gauge.Child _step = Step.WithLabels(job);
    private readonly Gauge.Child _loss = Loss.WithLabels(job);
    private readonly Gauge.Child _stepsPerSecond = StepsPerSecond.WithLabels(job);
    private readonly Gauge.Child _samplesPerSecond = SamplesPerSecond.WithLabels(job);

    public void RanksStarted(int ranks) => RanksAlive.WithLabels(job).Set(ranks);

    public void Stepped(StepReport step)
    {
        _step.Set(step.Iteration);
        _loss.Set(step.Loss);
        _stepsPerSecond.Set(step.StepsPerSecond);
        _samplesPerSecond.Set(step.SamplesPerSecond);
    }

    public void GradientsSynced(double seconds) => GradientSync.WithLabels(job).Set(seconds);

    public void Committed(long step, double stallSeconds, double writeSeconds, long bytes)
    {
        LastCommittedStep.WithLabels(job).Set(step);
        CheckpointStall.WithLabels(job).Set(stallSeconds);
        CheckpointWrite.WithLabels(job).Set(writeSeconds);
        CheckpointBytes.WithLabels(job).Set(bytes);
    }

    public void RankFailed(int rank)
    {
        RankFailures.WithLabels(job, rank.ToString(System.Globalization.CultureInfo.InvariantCulture)).Inc();
        RanksAlive.WithLabels(job).Set(0);
    }

    public void Restarted() => Restarts.WithLabels(job).Inc();

    public void Ended() => RanksAlive.WithLabels(job).Set(0);
}
