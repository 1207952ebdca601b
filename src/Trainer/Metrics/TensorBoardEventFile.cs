using Tensorboard;

namespace Orchestrator.Trainer.Metrics;

/// <summary>
/// One TensorBoard event file, open for as long as its run logs. Scalars are framed into one reused buffer
/// and reach the file in one write per <see cref="Flush"/>. (TorchSharp's SummaryWriter opens, writes and
/// closes the file for each scalar: at a thousand steps a second that was some 36 KB of garbage a step on
/// the supervisor's thread, and garbage collections that pause the rank threads too.)
/// </summary>
/// <remarks>
/// A flush is a write, not an fsync: a killed process loses nothing already flushed, and a power loss
/// leaves at worst a torn last record, which <see cref="TensorBoardFiles"/> reads as the file's end. Wall
/// times are seconds since the Unix epoch in full precision, as TensorBoard expects.
/// </remarks>
public sealed class TensorBoardEventFile : IDisposable
{
    private static int _filesThisProcess;

    private readonly FileStream _file;
    private readonly TfRecordBuffer _pending = new();
    private readonly Summary.Types.Value _value = new();
    private readonly Event _event = new() { Summary = new Summary() };

    /// <summary>Starts a new file in <paramref name="directory"/>; earlier files there are left as they are.</summary>
    public TensorBoardEventFile(string directory)
    {
        Directory.CreateDirectory(directory);
        // The name TensorBoard looks for; the first number orders a folder's files by when they were started.
        Path = System.IO.Path.Combine(directory,
            $"events.out.tfevents.{DateTime.UtcNow.Ticks}.{Environment.MachineName}.{Environment.ProcessId}.{Interlocked.Increment(ref _filesThisProcess)}");
        _file = new FileStream(Path, FileMode.CreateNew, FileAccess.Write, FileShare.Read | FileShare.Delete, bufferSize: 0);
        _event.Summary.Value.Add(_value);
        _pending.Append(new Event { WallTime = Now(), FileVersion = "brain.Event:2" });
        Flush();
    }

    public string Path { get; }

    /// <summary>Adds a scalar to the next flush.</summary>
    public void Add(string tag, float value, long step)
    {
        _event.WallTime = Now();
        _event.Step = step;
        _value.Tag = tag;
        _value.SimpleValue = value;
        _pending.Append(_event);
    }

    /// <summary>Writes what was added since the last flush, in one write.</summary>
    public void Flush()
    {
        if (_pending.Written.IsEmpty)
        {
            return;
        }
        _file.Write(_pending.Written);
        _pending.Clear();
    }

    public void Dispose()
    {
        try
        {
            Flush();
        }
        finally
        {
            _file.Dispose(); // closed even when the last flush fails (a full disk)
        }
    }

    private static double Now() => (DateTime.UtcNow - DateTime.UnixEpoch).TotalSeconds;
}
