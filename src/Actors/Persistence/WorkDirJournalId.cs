using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Orchestrator.Trainer.Checkpointing;

namespace Orchestrator.Actors.Persistence;

/// <summary>
/// The name a work dir's job has in the journal: an id stored in the work dir (<c>job-id</c>), so a work dir
/// that is moved or copied (with its journal.db) keeps its history, and two work dirs never share a record
/// because they once had the same path.
/// </summary>
/// <remarks>
/// Work dirs from before the id file have their records under an id derived from their absolute path. The
/// simplest correct bridge: a work dir without the file is read under that path-derived id, and when its owner
/// first writes the file it writes that same id if the dir already holds a job (a journal.db or checkpoints),
/// a random one only if the dir is new. Old dirs keep their history from then on wherever they move; new
/// ones never depend on their path at all.
/// </remarks>
public static partial class WorkDirJournalId
{
    public const string FileName = "job-id";

    /// <summary>The id a reader uses: the stored one, else the path-derived one of a work dir from before ids.</summary>
    public static string Of(string workDir) => Stored(workDir) ?? PathDerived(workDir);

    /// <summary>
    /// The id the owner uses, stored first if the work dir has none yet (call it holding the work dir's lock:
    /// two owners choosing at once could each store one).
    /// </summary>
    public static string Establish(string workDir, string checkpointDirectory)
    {
        if (Stored(workDir) is { } stored)
        {
            return stored;
        }
        var id = HoldsAJob(workDir, checkpointDirectory) ? PathDerived(workDir) : "job-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        Write(Path.Combine(Path.GetFullPath(workDir), FileName), id);
        return id;
    }

    /// <summary>Forgets the work dir's id (a fresh start with --delete-existing is a new job, also in a shared journal).</summary>
    public static void Delete(string workDir) => File.Delete(Path.Combine(Path.GetFullPath(workDir), FileName));

    private static string? Stored(string workDir)
    {
        var path = Path.Combine(Path.GetFullPath(workDir), FileName);
        if (!File.Exists(path))
        {
            return null;
        }
        var text = File.ReadAllText(path).Trim();
        return IdPattern().IsMatch(text)
            ? text
            : throw new ArgumentException($"{path} does not hold a job id (job- and 16 hex digits); restore it from a copy of the work dir, or delete it to start a new journal record");
    }

    private static string PathDerived(string workDir) =>
        "job-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Path.GetFullPath(workDir))))[..16];

    private static bool HoldsAJob(string workDir, string checkpointDirectory) =>
        File.Exists(Path.Combine(workDir, "journal.db"))
        || Directory.Exists(checkpointDirectory) && Directory.EnumerateFileSystemEntries(checkpointDirectory).Any();

    // Temp file, fsync, rename, fsync of the directory: a crash leaves the old state or the whole id, never half of one.
    private static void Write(string path, string id)
    {
        var directory = Path.GetDirectoryName(path)!;
        var temporary = Path.Combine(directory, $".{FileName}.{Guid.NewGuid():N}.tmp");
        using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
        {
            stream.Write(Encoding.ASCII.GetBytes(id + "\n"));
            stream.Flush(flushToDisk: true);
        }
        File.Move(temporary, path, overwrite: true);
        DurableFiles.SyncDirectory(directory);
    }

    [GeneratedRegex("^job-[0-9a-f]{16}$")]
    private static partial Regex IdPattern();
}
