using System.Runtime.InteropServices;

namespace Orchestrator.Actors.Persistence;

/// <summary>fsync of a directory, so a file renamed into it stays renamed after a power loss (Linux).</summary>
internal static partial class DirectorySync
{
    private const int OpenDirectory = 0x10000; // O_RDONLY | O_DIRECTORY (Linux)

    public static void Sync(string directory)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }
        var descriptor = Open(directory, OpenDirectory);
        if (descriptor < 0)
        {
            throw new IOException($"cannot open directory {directory} to sync it (errno {Marshal.GetLastPInvokeError()})");
        }
        try
        {
            if (Fsync(descriptor) != 0)
            {
                throw new IOException($"fsync of directory {directory} failed (errno {Marshal.GetLastPInvokeError()})");
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
