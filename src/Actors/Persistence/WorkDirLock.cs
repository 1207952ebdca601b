using System.Runtime.InteropServices;
using System.Text;

namespace Orchestrator.Actors.Persistence;

/// <summary>
/// The one owner of a work dir: an exclusive <c>flock(2)</c> on <c>.orchestrator.lock</c> inside it, held for
/// as long as the owner lives. The kernel drops the lock when its descriptor closes, so a process killed with
/// SIGKILL (or a node that dies) leaves nothing stale: the next run takes the lock and resumes. The file's
/// text names the owner, for the one-line refusal another process prints.
/// </summary>
/// <remarks>
/// The descriptor is opened and read with raw libc calls, not FileStream: .NET's own share-mode emulation
/// takes a shared flock on every FileStream, which would make the refused process unable to read who holds
/// the lock. On a shared file system the lock is only as good as the file system's flock: see README, Cluster.
/// </remarks>
public sealed partial class WorkDirLock : IDisposable
{
    public const string FileName = ".orchestrator.lock";

    private const int OpenReadOnly = 0x0;
    private const int OpenReadWrite = 0x2;
    private const int OpenCreate = 0x40; // O_CREAT (Linux)
    private const int OpenCloseOnExec = 0x80000; // O_CLOEXEC (Linux): no child process inherits the lock
    private const int LockExclusive = 2; // LOCK_EX
    private const int LockNonBlocking = 4; // LOCK_NB
    private const int WouldBlock = 11; // EWOULDBLOCK (Linux)

    private int _descriptor;
    private readonly FileStream? _elsewhere;

    private WorkDirLock(int descriptor, FileStream? elsewhere)
    {
        _descriptor = descriptor;
        _elsewhere = elsewhere;
    }

    /// <summary>
    /// Takes the work dir's lock (creating the dir if needed), recording <paramref name="owner"/> in the lock
    /// file; null when another process holds it (<see cref="OwnerOf"/> then says who).
    /// </summary>
    public static WorkDirLock? TryAcquire(string workDir, string owner)
    {
        workDir = Path.GetFullPath(workDir);
        Directory.CreateDirectory(workDir);
        var path = Path.Combine(workDir, FileName);
        if (!OperatingSystem.IsLinux())
        {
            return TryAcquireElsewhere(path, owner);
        }
        var descriptor = Open(path, OpenReadWrite | OpenCreate | OpenCloseOnExec, Convert.ToInt32("644", 8));
        if (descriptor < 0)
        {
            throw new IOException($"cannot open {path} to lock the work dir (errno {Marshal.GetLastPInvokeError()})");
        }
        if (Flock(descriptor, LockExclusive | LockNonBlocking) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            _ = Close(descriptor);
            return errno == WouldBlock ? null : throw new IOException($"cannot lock {path} (errno {errno}); the file system may not support flock (see README, Cluster)");
        }
        var text = Encoding.UTF8.GetBytes(owner + "\n");
        if (Ftruncate(descriptor, 0) != 0 || Pwrite(descriptor, text, text.Length, 0) != text.Length)
        {
            var errno = Marshal.GetLastPInvokeError();
            _ = Close(descriptor);
            // The errno as HResult, as .NET's own IOExceptions carry it on Unix: a full disk is then named as one (DiskFull).
            throw new IOException($"cannot write the owner into {path} (errno {errno})", errno);
        }
        return new WorkDirLock(descriptor, null);
    }

    /// <summary>What the holder of the work dir's lock wrote about itself ("another process" if unreadable).</summary>
    public static string OwnerOf(string workDir)
    {
        var path = Path.Combine(Path.GetFullPath(workDir), FileName);
        if (!OperatingSystem.IsLinux())
        {
            return "another process";
        }
        var descriptor = Open(path, OpenReadOnly | OpenCloseOnExec, 0);
        if (descriptor < 0)
        {
            return "another process";
        }
        try
        {
            var buffer = new byte[1024];
            var read = Pread(descriptor, buffer, buffer.Length, 0);
            var text = read > 0 ? Encoding.UTF8.GetString(buffer, 0, (int)read).Split('\n')[0].Trim() : "";
            // The holder's own words, but printed on the refused user's terminal: no control characters.
            text = new string(text.Where(c => !char.IsControl(c)).ToArray());
            return text.Length > 0 ? text : "another process";
        }
        finally
        {
            _ = Close(descriptor);
        }
    }

    /// <summary>The one-line refusal for a command that needs the work dir to itself.</summary>
    public static string Refusal(string workDir, string command) =>
        $"work dir {Path.GetFullPath(workDir)} is in use by {OwnerOf(workDir)}; {command} needs it to itself: wait for that job to end or stop it first ('status --work-dir' shows it)";

    /// <summary>Who this process is, for the lock file: pid, host and start time.</summary>
    public static string ThisProcess(string role) =>
        $"{role} (pid {Environment.ProcessId} on host {Environment.MachineName}, since {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm:ss}Z)";

    public void Dispose()
    {
        _elsewhere?.Dispose();
        if (_descriptor > 0)
        {
            _ = Close(_descriptor); // closing the last descriptor releases the flock
            _descriptor = 0;
        }
    }

    // Not Linux: FileShare.None is the platform's exclusive lock (Windows) or .NET's flock (macOS); no owner text.
    private static WorkDirLock? TryAcquireElsewhere(string path, string owner)
    {
        try
        {
            var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            stream.SetLength(0);
            stream.Write(Encoding.UTF8.GetBytes(owner + "\n"));
            stream.Flush();
            return new WorkDirLock(0, stream);
        }
        catch (IOException)
        {
            return null;
        }
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
    private static partial int Flock(int descriptor, int operation);

    [LibraryImport("libc", EntryPoint = "ftruncate", SetLastError = true)]
    private static partial int Ftruncate(int descriptor, long length);

    [LibraryImport("libc", EntryPoint = "pwrite", SetLastError = true)]
    private static partial nint Pwrite(int descriptor, byte[] buffer, nint count, long offset);

    [LibraryImport("libc", EntryPoint = "pread", SetLastError = true)]
    private static partial nint Pread(int descriptor, byte[] buffer, nint count, long offset);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int descriptor);
}
