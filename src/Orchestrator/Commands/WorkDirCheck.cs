using Orchestrator.Trainer.Checkpointing;

namespace Orchestrator.Cli.Commands;

/// <summary>
/// Paths given on the command line, checked before anything is created: an empty path, a file where a folder
/// belongs (<c>/dev/null</c>), or a folder the process may not list or write is one line naming the path and
/// the fix, never an IOException from the journal or the checkpoint store halfway through starting.
/// </summary>
internal static class WorkDirCheck
{
    /// <summary>The absolute form of a path option's value; empty text or a NUL byte is refused.</summary>
    public static string FullPath(string option, string text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            throw new UsageException($"{option} is empty; give a path");
        }
        if (text.Contains('\0', StringComparison.Ordinal))
        {
            throw new UsageException($"{option} holds a NUL character; give a plain path");
        }
        return Path.GetFullPath(text);
    }

    /// <summary>
    /// A work dir <c>train</c> can use: an existing folder it can list and write in, or a path whose nearest
    /// existing parent is such a folder (the work dir itself is made only once the job is accepted).
    /// </summary>
    public static string ForTraining(string text)
    {
        var path = FullPath("--work-dir", text);
        var existing = path;
        while (!Directory.Exists(existing))
        {
            if (File.Exists(existing))
            {
                throw new UsageException(existing == path
                    ? $"--work-dir {path} is a file, not a folder; give a folder's path"
                    : $"--work-dir {path}: {existing} is a file, not a folder; give a path under a folder");
            }
            existing = Path.GetDirectoryName(existing) ?? throw new UsageException($"--work-dir {path} has no existing parent folder");
        }
        RequireReadable(existing, path);
        RequireWritable(existing, path);
        foreach (var inside in new[] { Path.Combine(path, "checkpoints") }.Where(Directory.Exists))
        {
            RequireReadable(inside, path);
            RequireWritable(inside, path);
        }
        return path;
    }

    /// <summary>For read-only commands: the work dir exists and can be listed, so "no job journal" is never said of a folder that could not be read.</summary>
    public static void RequireReadableWorkDir(string path)
    {
        if (Directory.Exists(path))
        {
            RequireReadable(path, path);
        }
        else if (File.Exists(path))
        {
            throw new UsageException($"--work-dir {path} is a file, not a folder; give the --work-dir of a 'train' run");
        }
    }

    /// <summary>
    /// A <c>--journal sqlite:FILE</c> outside the work dir: SQLite makes the file but not its folder, and
    /// writes its -wal and -shm files beside it, so the folder must exist and take new files.
    /// </summary>
    public static void RequireJournalFile(string file)
    {
        if (Directory.Exists(file))
        {
            throw new UsageException($"--journal sqlite:{file} is a folder; name a file in it, e.g. sqlite:{Path.Combine(file, "journal.db")}");
        }
        var folder = Path.GetDirectoryName(file)!;
        if (!Directory.Exists(folder))
        {
            throw new UsageException(File.Exists(folder)
                ? $"--journal sqlite:{file}: {folder} is a file, not a folder; give a path in a folder"
                : $"--journal sqlite:{file}: folder {folder} does not exist; create it or give another --journal sqlite:FILE");
        }
        RequireRegularFile(file, "journal");
        RequireWritable(folder, folder, "journal folder");
        RequireWritableFile(file, "journal");
    }

    /// <summary>
    /// A journal path that names a device, a FIFO or a socket (<c>sqlite:/dev/null</c>) would reach SQLite and
    /// fail deep in the journal (or block on the FIFO): refused here. A symbolic link is judged by what it
    /// finally names; a missing file is fine (SQLite creates it).
    /// </summary>
    private static void RequireRegularFile(string file, string what)
    {
        var target = new FileInfo(file).LinkTarget is null ? file : File.ResolveLinkTarget(file, returnFinalTarget: true)!.FullName;
        if (!Path.Exists(target) || Directory.Exists(target))
        {
            return; // missing: created by SQLite; a folder: named by the callers' own checks
        }
        using var regular = CheckpointFileGuard.TryOpenRegular(target, out _, out var refusal);
        if (regular is null && refusal is not null)
        {
            throw new UsageException($"{what} {file} {refusal}; give a file's path (e.g. --journal sqlite:DIR/journal.db)");
        }
    }

    /// <summary>A file a read-only command reads (the journal) that exists but may not be read is named, not met as a database error.</summary>
    public static void RequireReadableFile(string file, string what)
    {
        if (!File.Exists(file))
        {
            return;
        }
        try
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (UnauthorizedAccessException)
        {
            throw new UsageException($"{what} {file} is not readable (permission denied); fix its permissions");
        }
        catch (IOException e)
        {
            throw new UsageException($"{what} {file} cannot be read ({e.Message.TrimEnd('.')})");
        }
    }

    /// <summary>A file the job writes in place (the journal) that exists but may not be written is refused before the job starts.</summary>
    public static void RequireWritableFile(string file, string what)
    {
        if (!File.Exists(file))
        {
            return;
        }
        RequireRegularFile(file, what);
        try
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (UnauthorizedAccessException)
        {
            throw new UsageException($"{what} {file} is not writable (permission denied); fix its permissions or give another --work-dir");
        }
        catch (IOException e)
        {
            throw new UsageException($"{what} {file} cannot be opened for writing ({e.Message.TrimEnd('.')}); fix it or give another --work-dir");
        }
    }

    private static void RequireReadable(string folder, string workDir)
    {
        try
        {
            using var entries = Directory.EnumerateFileSystemEntries(folder).GetEnumerator();
            entries.MoveNext();
        }
        catch (UnauthorizedAccessException)
        {
            throw new UsageException($"work dir {workDir} is not readable ({folder}: permission denied); fix its permissions or give another --work-dir");
        }
        catch (IOException e)
        {
            throw new UsageException($"work dir {workDir} cannot be read ({folder}: {e.Message.TrimEnd('.')}); fix it or give another --work-dir");
        }
    }

    // Creating (and at once deleting) a file is the only test that asks the file system itself: permission
    // bits say nothing of a read-only mount, an immutable folder or a root without CAP_DAC_OVERRIDE.
    private static void RequireWritable(string folder, string workDir, string what = "work dir")
    {
        var probe = Path.Combine(folder, $".orchestrator-write-test-{Guid.NewGuid():N}");
        try
        {
            using var stream = new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose);
        }
        catch (UnauthorizedAccessException)
        {
            throw new UsageException($"{what} {workDir} is not writable ({folder}: permission denied); fix its permissions or give another {(what == "work dir" ? "--work-dir" : "--journal")}");
        }
        catch (IOException)
        {
            throw new UsageException($"{what} {workDir} cannot be written (creating a file in {folder} failed); fix it or give another {(what == "work dir" ? "--work-dir" : "--journal")}");
        }
    }
}
