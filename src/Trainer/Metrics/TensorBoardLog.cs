using Orchestrator.Trainer.Checkpointing;
using Orchestrator.Trainer.Training;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Metrics;

/// <summary>
/// A job's scalars for TensorBoard, written with TorchSharp's SummaryWriter into <c>WORK_DIR/tensorboard</c>.
/// A resumed run first drops what a dead run logged after the checkpoint it resumes from, and steps redone
/// after a restart in the same run are not logged twice (they compute the same values).
/// </summary>
public sealed class TensorBoardLog
{
    public const string Folder = "tensorboard";

    private readonly SummaryWriter _writer;
    private long _lastLoggedStep;

    public TensorBoardLog(string workDir, long startStep)
    {
        var directory = Path.Combine(workDir, Folder);
        TensorBoardFiles.DropStepsAfter(directory, startStep);
        _writer = utils.tensorboard.SummaryWriter(directory, "", false);
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
        var at = checked((int)step.Iteration);
        _writer.add_scalar("train/loss", (float)step.Loss, at);
        _writer.add_scalar("train/learning_rate", (float)step.LearningRate, at);
        _writer.add_scalar("train/steps_per_second", (float)step.StepsPerSecond, at);
        _writer.add_scalar("train/samples_per_second", (float)step.SamplesPerSecond, at);
    }

    public void Saved(SaveReport save)
    {
        if (save.AlreadyPresent)
        {
            return;
        }
        var at = checked((int)save.Iteration);
        _writer.add_scalar("checkpoint/stall_ms", (float)save.Stall.TotalMilliseconds, at);
        _writer.add_scalar("checkpoint/write_ms", (float)save.WriteDuration.TotalMilliseconds, at);
        _writer.add_scalar("checkpoint/megabytes", save.Bytes / 1e6f, at);
    }

    public void Restarted(long step, int restarts) => _writer.add_scalar("job/restarts", restarts, checked((int)step));
}
