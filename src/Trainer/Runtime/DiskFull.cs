namespace Orchestrator.Trainer.Runtime;

/// <summary>
/// Recognises a write that failed because the file system is full (or the user's quota is spent), and says
/// so in the one line the user needs: which folder, what is still safe, what to do.
/// </summary>
public static class DiskFull
{
    // On Unix .NET puts the errno into an IOException's HResult; on Windows it is the Win32 error as an HRESULT.
    private const int NoSpaceErrno = 28; // ENOSPC
    private const int QuotaErrnoLinux = 122; // EDQUOT
    private const int WindowsDiskFull = unchecked((int)0x80070070); // ERROR_DISK_FULL
    private const int WindowsHandleDiskFull = unchecked((int)0x80070027); // ERROR_HANDLE_DISK_FULL

    /// <summary>True if <paramref name="exception"/> or any exception inside it is a full disk.</summary>
    public static bool Is(Exception exception) => Causes(exception).Any(e => e is IOException
    {
        HResult: NoSpaceErrno or QuotaErrnoLinux or WindowsDiskFull or WindowsHandleDiskFull,
    });

    /// <summary>The line for a job that stopped because <paramref name="directory"/> is full.</summary>
    public static string Message(string directory, string? lastCheckpoint) => lastCheckpoint is null
        ? $"no space left on {directory} (no checkpoint was committed yet; free space and rerun)"
        : $"no space left on {directory} (checkpoints up to {lastCheckpoint} are intact; free space and rerun)";

    /// <summary>The exception and every one it wraps, outermost first.</summary>
    public static IEnumerable<Exception> Causes(Exception exception)
    {
        var pending = new Stack<Exception>([exception]);
        while (pending.TryPop(out var next))
        {
            yield return next;
            if (next is AggregateException aggregate)
            {
                foreach (var inner in aggregate.InnerExceptions.Reverse())
                {
                    pending.Push(inner);
                }
            }
            else if (next.InnerException is { } inner)
            {
                pending.Push(inner);
            }
        }
    }
}
