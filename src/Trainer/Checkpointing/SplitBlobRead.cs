using Microsoft.Win32.SafeHandles;

namespace Orchestrator.Trainer.Checkpointing;

/// <summary>
/// One blob file read by two threads into one array: the head through the file's hash, the tail raw, then
/// hashed from memory once both are in (a hash takes its bytes in order). A checkpoint's optimizer state is
/// twice the size of its weights, so read whole it alone bounded the load while the other thread idled
/// half the time; split, each thread reads about half the checkpoint's bytes.
/// </summary>
internal sealed class SplitBlobRead(Func<SafeFileHandle> open, FileChecksum checksum, int length, int headLength) : IDisposable
{
    // A tail smaller than this is not worth a second open and hand-off (about 0.1 ms of reading).
    private const long MinTailBytes = 256 << 10;
    private readonly byte[] _bytes = GC.AllocateUninitializedArray<byte>(length);
    private int _headRead;
    private int _tailRead;

    public string ChecksumName => checksum.Name;

    /// <summary>
    /// The largest of <paramref name="blobs"/> among <paramref name="files"/> (all read by this load, their
    /// sizes checked against the manifest already) with where it sits in them, when it is worth splitting.
    /// Each part opens the file through <see cref="CheckpointFileGuard"/>, which checks it again.
    /// </summary>
    public static (int Index, SplitBlobRead Read)? OfLargest(string checkpoint, string checkpointPath, CheckpointManifest manifest, IReadOnlyList<KeyValuePair<string, ManifestEntry>> files, IReadOnlySet<string> blobs)
    {
        var loaded = Enumerable.Range(0, files.Count).Where(i => blobs.Contains(files[i].Key)).ToList();
        if (loaded.Count == 0)
        {
            return null;
        }
        var index = loaded.MaxBy(i => files[i].Value.Bytes);
        var (file, entry) = files[index];
        return HeadLength(entry.Bytes, files.Sum(f => f.Value.Bytes), Environment.ProcessorCount) is { } head
            ? (index, new SplitBlobRead(() => CheckpointFileGuard.OpenEntry(checkpoint, checkpointPath, file, entry.Bytes), manifest.NewChecksum(), (int)entry.Bytes, head))
            : null;
    }

    /// <summary>
    /// Where to split the largest blob that <paramref name="workers"/> threads load, so that its head is one
    /// thread's fair share of <paramref name="totalBytes"/> (every file read, loaded or only verified); null
    /// where it is no larger than that share plus <see cref="MinTailBytes"/>, or only one thread reads.
    /// </summary>
    public static int? HeadLength(long blobBytes, long totalBytes, int workers)
    {
        if (workers < 2 || blobBytes > Array.MaxLength)
        {
            return null;
        }
        // A whole number of pages, so each thread copies whole pages of the page cache.
        var share = totalBytes / workers / Environment.SystemPageSize * Environment.SystemPageSize;
        return share > 0 && blobBytes - share >= MinTailBytes ? (int)share : null;
    }

    /// <summary>The head, hashed slice by slice as it lands.</summary>
    public void ReadHead()
    {
        using var file = open();
        _headRead = ReadRange(file, 0, _bytes.AsSpan(0, headLength), hashed: true);
    }

    /// <summary>The tail, not hashed yet: that waits for the head.</summary>
    public void ReadTail()
    {
        using var file = open();
        _tailRead = ReadRange(file, headLength, _bytes.AsSpan(headLength), hashed: false);
    }

    /// <summary>
    /// After both reads: the file's hash and its bytes. A short read (the file shrank since its size was
    /// checked) hashes only what was read, so the hash cannot match.
    /// </summary>
    public (string Checksum, byte[] Bytes) Finish()
    {
        if (_headRead == headLength)
        {
            checksum.Append(_bytes.AsSpan(headLength, _tailRead));
        }
        return (checksum.Finish(), _bytes);
    }

    public void Dispose() => checksum.Dispose();

    // In the reader's slices, each hashed right after it lands.
    private int ReadRange(SafeFileHandle file, long offset, Span<byte> into, bool hashed)
    {
        var done = 0;
        while (done < into.Length)
        {
            var slice = into.Slice(done, Math.Min(ChecksummedFileReader.ChunkBytes, into.Length - done));
            var read = RandomAccess.Read(file, slice, offset + done);
            if (read == 0)
            {
                break;
            }
            if (hashed)
            {
                checksum.Append(slice[..read]);
            }
            done += read;
        }
        return done;
    }
}
