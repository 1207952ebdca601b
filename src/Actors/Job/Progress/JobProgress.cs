using Akka.Actor;
using Orchestrator.Actors.Metrics;
using Orchestrator.Actors.Protocol;
using Orchestrator.Trainer.Checkpointing;
using Orchestrator.Trainer.Metrics;
using Orchestrator.Trainer.Training;

namespace Orchestrator.Actors.Job.Progress;

/// <summary>
/// Everything a job tells the outside about its progress: the reporter (the command line's console, a test
/// probe), the Prometheus metrics and the TensorBoard log. Also measures each step's duration, which the
/// one-rank run-ahead is sized by.
/// </summary>
internal sealed class JobProgress(IActorRef reporter, JobMetrics metrics) : IDisposable
{
    private readonly Dictionary<long, double> _lossAtStep = [];
    private TensorBoardGuard? _tensorBoard;
    private TimeSpan _lastStepAt;

    /// <summary>The loss of the last step every rank applied.</summary>
    public double LastLoss { get; private set; } = double.NaN;

    /// <summary>How long the last step took (zero before the first).</summary>
    public TimeSpan StepDuration { get; private set; }

    public void Note(string message) => reporter.Tell(new ProgressNote(message));

    /// <summary>The first start of this run: the TensorBoard log opens here, in step with training, so every step before a kill is on disk before the next starts.</summary>
    public void Announce(string workDir, RunStart start, StartupTimes startup)
    {
        _tensorBoard = new TensorBoardGuard(workDir, start.FirstIteration, Note);
        reporter.Tell(new ProgressStarted(start, startup));
    }

    public void RanksStarted(int ranks, TimeSpan now)
    {
        metrics.RanksStarted(ranks);
        _lastStepAt = now;
    }

    public void Stepped(StepApplied applied, long total, double loss, TimeSpan now)
    {
        LastLoss = loss;
        // Steps reported together arrive together: their own durations, measured by the rank, say how long they took.
        StepDuration = applied.Seconds > 0 ? TimeSpan.FromSeconds(applied.Seconds) : now - _lastStepAt;
        var rate = 1.0 / Math.Max(1e-9, StepDuration.TotalSeconds);
        _lastStepAt = now;
        var report = new StepReport(applied.Step, total, applied.Epoch, loss, applied.LearningRate, rate, applied.Samples);
        reporter.Tell(new ProgressStep(report));
        metrics.Stepped(report);
        _tensorBoard?.Stepped(report);
    }

    public void GradientsSynced(TimeSpan took) => metrics.GradientsSynced(took.TotalSeconds);

    /// <summary>A checkpoint of <paramref name="step"/> starts: its loss is journalled with the commit, which comes later.</summary>
    public void CheckpointStarted(long step) => _lossAtStep[step] = LastLoss;

    /// <summary>Reports a written checkpoint; returns the loss at its step (NaN if unknown).</summary>
    public double Saved(CheckpointWritten written)
    {
        var loss = _lossAtStep.Remove(written.Step, out var atCapture) ? atCapture : double.NaN;
        var save = new SaveReport(written.Name, written.Step, written.Reason, written.Bytes,
            TimeSpan.FromMilliseconds(written.StallMilliseconds), TimeSpan.FromMilliseconds(written.WriteMilliseconds), written.Deleted, written.AlreadyPresent, written.WeightsSha256);
        reporter.Tell(new ProgressSaved(save));
        _tensorBoard?.Saved(save);
        if (!written.AlreadyPresent)
        {
            metrics.Committed(written.Step, written.StallMilliseconds / 1000, written.WriteMilliseconds / 1000, written.Bytes);
        }
        return loss;
    }

    public void RankFailed(int rank) => metrics.RankFailed(rank);

    public void Restarted(long fromStep, int restarts)
    {
        reporter.Tell(new ProgressRestart(fromStep, restarts));
        _tensorBoard?.Restarted(fromStep, restarts);
        metrics.Restarted();
    }

    public void Ended() => metrics.Ended();

    public void Dispose() => _tensorBoard?.Dispose();
}
