using Orchestrator.Trainer.Checkpointing;

namespace Orchestrator.Trainer.Interop;

/// <summary>
/// One exported file, written as the checkpoint store writes its own: into <c>FILE.tmp-ID</c> beside it, the
/// kernel asked to start writeback every 8 MiB, fsynced, renamed over the final name, the folder fsynced. A
/// crash leaves either no file or the whole file, never a torn one under the final name; a temporary file
/// left by a crash is never read. Disposed before <see cref="Commit"/>, the temporary file is removed.
/// </summary>
internal sealed class ExportFile : IDisposable
{
    private const int ChunkBytes = 1 << 20;
    private const long WritebackBytes = 8 << 20;
    private readonly FileStream _file;
    private readonly ExportProgress _progress;
    private long _writebackFrom;
    private bool _committed;

    private ExportFile(string path, string temporary, FileStream file, ExportProgress progress)
    {
        FinalPath = path;
        TemporaryPath = temporary;
        _file = file;
        _progress = progress;
    }

    public string FinalPath { get; }

    public string TemporaryPath { get; }

    public long Position { get; private set; }

    public static ExportFile Create(string path, ExportProgress progress)
    {
        var temporary = $"{path}.tmp-{Guid.NewGuid():N}";
        var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0);
        return new ExportFile(path, temporary, file, progress);
    }

    /// <summary>Writes <paramref name="bytes"/> 1 MiB at a time, counting each piece into the progress.</summary>
    public void Write(ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty)
        {
            var piece = bytes[..Math.Min(bytes.Length, ChunkBytes)];
            _file.Write(piece);
            Position += piece.Length;
            _progress.Add(piece.Length);
            bytes = bytes[piece.Length..];
            if (Position - _writebackFrom >= WritebackBytes)
            {
                DurableFiles.StartWriteback(_file.SafeFileHandle, _writebackFrom, Position - _writebackFrom);
                _writebackFrom = Position;
            }
        }
    }

    /// <summary>Makes the bytes durable, then the name: fsync, close, rename over <see cref="FinalPath"/>, fsync the folder.</summary>
    public void Commit()
    {
        _file.Flush(flushToDisk: true);
        _file.Dispose();
        File.Move(TemporaryPath, FinalPath, overwrite: true);
        _committed = true;
        DurableFiles.SyncDirectory(Path.GetDirectoryName(Path.GetFullPath(FinalPath))!);
    }

    public void Dispose()
    {
        _file.Dispose();
        if (!_committed)
        {
            try
            {
                File.Delete(TemporaryPath);
            }
            catch (IOException)
            {
                // Nothing reads a .tmp- file; one left behind by a failing disk is harmless.
            }
        }
    }
}

/// <summary>Bytes written so far of an export's total, reported to <see cref="Report"/> as they grow.</summary>
internal sealed class ExportProgress(long totalBytes, Action<long, long>? report)
{
    public long TotalBytes { get; } = totalBytes;

    public long Written { get; private set; }

    public void Add(long bytes)
    {
        Written += bytes;
        report?.Invoke(Written, TotalBytes);
    }
}
