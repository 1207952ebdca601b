using Orchestrator.Trainer.Checkpointing;
using Orchestrator.Trainer.Training;

namespace Orchestrator.Trainer.Metrics;

/// <summary>
/// A job's TensorBoard log that can never stop training: the first write that fails (a full disk, a folder
/// made read-only) is reported once through <c>warn</c>, and the job goes on without TensorBoard. Scalars are
/// a view of training; the checkpoints and the journal are what a resume needs.
/// </summary>
public sealed class TensorBoardGuard : IDisposable
{
    private readonly Action<string> _warn;
    private TensorBoardLog? _log;

    public TensorBoardGuard(string workDir, long startStep, Action<string> warn)
    {
        _warn = warn;
        _log = Attempt(() => new TensorBoardLog(workDir, startStep));
    }

    /// <summary>False once a write has failed: nothing more is written for this run.</summary>
    public bool IsLogging => _log is not null;

    public void Stepped(StepReport step) => Use(log => log.Stepped(step));

    public void Saved(SaveReport save) => Use(log => log.Saved(save));

    public void Restarted(long step, int restarts) => Use(log => log.Restarted(step, restarts));

    public void Dispose() => Use(log =>
    {
        _log = null;
        log.Dispose();
    });

    private void Use(Action<TensorBoardLog> write)
    {
        if (_log is { } log)
        {
            Attempt(() =>
            {
                write(log);
                return log;
            });
        }
    }

    private T? Attempt<T>(Func<T> write) where T : class
    {
        try
        {
            return write();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            var failed = _log;
            _log = null;
            try
            {
                failed?.Dispose(); // flushes what is pending: fails again on a full disk, and that adds nothing
            }
            catch (Exception again) when (again is IOException or UnauthorizedAccessException)
            {
            }
            _warn($"warning: TensorBoard logging stopped ({e.Message.Split('\n')[0].Trim()}); training goes on without it");
            return null;
        }
    }
}
