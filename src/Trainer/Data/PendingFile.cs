using Orchestrator.Trainer.Checkpointing;

namespace Orchestrator.Trainer.Data;

/// <summary>
/// A file written under a temporary name beside its destination and renamed into place only when complete,
/// fsynced before and after the rename. A writer killed mid-way leaves at most a stray temporary file, never
/// a half file under the real name that a rerun would trust.
/// </summary>
internal sealed class PendingFile : IDisposable
{
    private readonly string _path;
    private readonly string _temporary;
    private readonly FileStream _stream;
    private bool _committed;

    public PendingFile(string path)
    {
        _path = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(_path)!;
        Directory.CreateDirectory(directory);
        // Unique per writer, so two ranks writing the same file at once each rename a whole one into place.
        _temporary = Path.Combine(directory, $".{Path.GetFileName(_path)}.{Guid.NewGuid():N}.tmp");
        _stream = new FileStream(_temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1 << 16);
    }

    public Stream Stream => _stream;

    public void Commit()
    {
        _stream.Flush(flushToDisk: true);
        _stream.Dispose();
        File.Move(_temporary, _path, overwrite: true);
        DurableFiles.SyncDirectory(Path.GetDirectoryName(_path)!);
        _committed = true;
    }

    public void Dispose()
    {
        if (_committed)
        {
            return;
        }
        _stream.Dispose();
        File.Delete(_temporary);
    }

    /// <summary>Writes a whole file with <paramref name="write"/> and commits it, or leaves nothing.</summary>
    public static T Write<T>(string path, Func<Stream, T> write)
    {
        using var pending = new PendingFile(path);
        var result = write(pending.Stream);
        pending.Commit();
        return result;
    }
}
