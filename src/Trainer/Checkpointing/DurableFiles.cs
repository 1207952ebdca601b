using System.Runtime.InteropServices;

namespace Orchestrator.Trainer.Checkpointing;

/// <summary>
/// The fsync steps that make a rename a commit: a file's bytes reach the disk before it is renamed, and
/// the directory entry itself reaches the disk after.
/// </summary>
internal static partial class DurableFiles
{
    private const int ReadOnlyFlags = 0x0; // O_RDONLY: fsync needs no write access on Linux
    private const int ReadOnlyDirectoryFlags = 0x0 | 0x10000; // O_RDONLY | O_DIRECTORY (Linux)

    public static void SyncDirectory(string directory)
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // Windows and macOS make a rename durable by other means; fsync on a directory is Linux's.
        }
        SyncDescriptorOf(directory, ReadOnlyDirectoryFlags, $"directory {directory}");
    }

    /// <summary>
    /// fsyncs the files and their directory, all at once: the calls run side by side, so the file system can
    /// commit them in one journal transaction instead of one after another. Returns when all are durable.
    /// </summary>
    public static void SyncAll(IReadOnlyList<string> files, string directory)
    {
        var work = files.Select(f => (Path: f, IsDirectory: false)).Append((Path: directory, IsDirectory: true)).ToList();
        Parallel.ForEach(work, new ParallelOptions { MaxDegreeOfParallelism = work.Count }, item =>
        {
            if (item.IsDirectory)
            {
                SyncDirectory(item.Path);
            }
            else
            {
                SyncFile(item.Path);
            }
        });
    }

    /// <summary>Waits for fsyncs started in the background; the first failure is thrown as itself.</summary>
    public static void WaitAll(IReadOnlyList<Task> syncs)
    {
        try
        {
            Task.WaitAll(syncs);
        }
        catch (AggregateException e) when (e.InnerExceptions.Count > 0)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerExceptions[0]);
        }
    }

    public static void SyncFile(string path)
    {
        if (!OperatingSystem.IsLinux())
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite);
            stream.Flush(flushToDisk: true);
            return;
        }
        SyncDescriptorOf(path, ReadOnlyFlags, path);
    }

    /// <summary>Opens, fsyncs and closes; <paramref name="described"/> names the path in errors.</summary>
    private static void SyncDescriptorOf(string path, int flags, string described)
    {
        var descriptor = Open(path, flags);
        if (descriptor < 0)
        {
            throw new IOException($"cannot open {described} to sync it (errno {Marshal.GetLastPInvokeError()})");
        }
        try
        {
            if (Fsync(descriptor) != 0)
            {
                throw new IOException($"fsync of {described} failed (errno {Marshal.GetLastPInvokeError()})");
            }
        }
        finally
        {
            _ = Close(descriptor);
        }
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int descriptor);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int descriptor);
}
