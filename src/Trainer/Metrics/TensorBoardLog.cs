using Orchestrator.Trainer.Checkpointing;
using Orchestrator.Trainer.Training;

namespace Orchestrator.Trainer.Metrics;

/// <summary>
/// A job's scalars for TensorBoard, one event file per run in <c>WORK_DIR/tensorboard</c>, each call's
/// scalars written before it returns. A resumed run first drops what a dead run logged after the checkpoint
/// it resumes from, and steps redone after a restart in the same run are not logged twice (they compute the
/// same values).
/// </summary>
public sealed class TensorBoardLog : IDisposable
{
    public const string Folder = "tensorboard";

    // The tags written for every step, which the watch, plot and benchmark read back.
    public const string LossTag = "train/loss";
    public const string StepsPerSecondTag = "train/steps_per_second";

    private readonly TensorBoardEventFile _writer;
    private long _lastLoggedStep;

    public TensorBoardLog(string workDir, long startStep)
    {
        var directory = Path.Combine(workDir, Folder);
        TensorBoardFiles.DropStepsAfter(directory, startStep);
        _writer = new TensorBoardEventFile(directory);
        _lastLoggedStep = startStep;
    }

    public static string DirectoryIn(string workDir) => Path.Combine(workDir, Folder);

    public void Stepped(StepReport step)
    {
        if (step.Iteration <= _lastLoggedStep)
        {
            return;
        }
        _lastLoggedStep = step.Iteration;
        var at = step.Iteration;
        _writer.Add(LossTag, (float)step.Loss, at);
        _writer.Add("train/learning_rate", (float)step.LearningRate, at);
        _writer.Add(StepsPerSecondTag, (float)step.StepsPerSecond, at);
        _writer.Add("train/samples_per_second", (float)step.SamplesPerSecond, at);
        _writer.Flush();
    }

    public void Saved(SaveReport save)
    {
        if (save.AlreadyPresent)
        {
            return;
        }
        var at = save.Iteration;
        _writer.Add("checkpoint/stall_ms", (float)save.Stall.TotalMilliseconds, at);
        _writer.Add("checkpoint/write_ms", (float)save.WriteDuration.TotalMilliseconds, at);
        _writer.Add("checkpoint/megabytes", save.Bytes / 1e6f, at);
        _writer.Flush();
    }

    public void Restarted(long step, int restarts)
    {
        _writer.Add("job/restarts", restarts, step);
        _writer.Flush();
    }

    public void Dispose() => _writer.Dispose();
}
