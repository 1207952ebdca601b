using System.IO.MemoryMappedFiles;

namespace Orchestrator.Trainer.Data;

/// <summary>
/// A read-only memory mapping of a whole file: the page cache holds what was read, the process holds
/// nothing, so a dataset larger than memory costs only the pages a batch touches.
/// </summary>
internal sealed unsafe class MappedFile : IDisposable
{
    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;
    private readonly byte* _start;
    private bool _disposed;

    private MappedFile(string path, long length)
    {
        Length = length;
        _file = MemoryMappedFile.CreateFromFile(path, FileMode.Open, mapName: null, capacity: 0, MemoryMappedFileAccess.Read);
        _view = _file.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
        byte* pointer = null;
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
        _start = pointer + _view.PointerOffset;
    }

    public long Length { get; }

    /// <summary>
    /// The length of the file at <paramref name="path"/>, or a one-line error naming what it should have been
    /// (<paramref name="kind"/>: "token file", "record file").
    /// </summary>
    public static long LengthOf(string path, string kind)
    {
        var file = new FileInfo(path);
        return file.Exists ? file.Length : throw new FileNotFoundException($"{kind} {file.FullName} does not exist", file.FullName);
    }

    /// <summary>Maps a file already checked to be non-empty (an empty file cannot be mapped).</summary>
    public static MappedFile Open(string path, long length) => new(path, length);

    public ReadOnlySpan<byte> Slice(long offset, int length)
    {
        ObjectDisposedException.ThrowIf(_disposed, this); // after Dispose the pointer is unmapped: a crash, not an error
        if (offset < 0 || length < 0 || offset > Length - length)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), $"bytes [{offset}, {offset + length}) are outside a file of {Length}");
        }
        return new ReadOnlySpan<byte>(_start + offset, length);
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _file.Dispose();
    }
}
