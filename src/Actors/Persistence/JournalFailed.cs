using Akka.Actor;
using Microsoft.Data.Sqlite;
using Orchestrator.Trainer.Runtime;

namespace Orchestrator.Actors.Persistence;

/// <summary>What went wrong with a journal, as far as the user's next step is concerned.</summary>
public enum JournalProblem
{
    /// <summary>The disk under the journal is full: free space and rerun.</summary>
    DiskFull,

    /// <summary>The journal's file is not a sound database: move it aside and rerun.</summary>
    Damaged,

    /// <summary>Anything else (unreachable, read-only, a driver error).</summary>
    Failed,
}

/// <summary>
/// A persistent actor's journal failed (recovering or persisting), published on the event stream just
/// before the actor stops, so the command that started it can say why in one line instead of the generic
/// "stopped unexpectedly" (Akka.Persistence stops the actor; the cause is otherwise only in its log).
/// </summary>
public sealed record JournalFailed(string PersistenceId, JournalProblem Problem, string Detail)
{
    // SQLite's result codes (sqlite3.h).
    private const int SqliteCorrupt = 11;
    private const int SqliteFull = 13;
    private const int SqliteNotADatabase = 26;

    public static JournalFailed From(string persistenceId, Exception cause)
    {
        if (DiskFull.Is(cause))
        {
            return new(persistenceId, JournalProblem.DiskFull, "no space left on device");
        }
        foreach (var inner in DiskFull.Causes(cause))
        {
            switch (inner)
            {
                case SqliteException { SqliteErrorCode: SqliteFull }:
                    return new(persistenceId, JournalProblem.DiskFull, "SQLite: database or disk is full");
                case SqliteException { SqliteErrorCode: SqliteCorrupt or SqliteNotADatabase } sqlite:
                    return new(persistenceId, JournalProblem.Damaged, "SQLite: " + SqliteText(sqlite));
            }
        }
        var innermost = DiskFull.Causes(cause).Last();
        // An event whose bytes no longer parse: the file is sound to SQLite, its contents are not.
        return IsUnreadableEvent(cause)
            ? new(persistenceId, JournalProblem.Damaged, "an event does not parse: " + Printable(innermost.Message))
            : new(persistenceId, JournalProblem.Failed, Printable(innermost.Message));
    }

    private static bool IsUnreadableEvent(Exception cause) => DiskFull.Causes(cause).Any(e =>
        e is System.Runtime.Serialization.SerializationException or InvalidCastException
        || e.GetType().Namespace?.StartsWith("Newtonsoft.Json", StringComparison.Ordinal) == true);

    // The first line, without the control characters or replacement marks that garbage bytes turn into.
    private static string Printable(string message)
    {
        var line = message.Split('\n')[0].Trim();
        var kept = new string(line.Select(c => char.IsControl(c) || c == '\uFFFD' ? '?' : c).ToArray());
        return kept.Length <= 160 ? kept : kept[..160] + "...";
    }

    /// <summary>Publishes the failure on <paramref name="system"/>'s event stream.</summary>
    public static void Publish(ActorSystem system, string persistenceId, Exception cause) =>
        system.EventStream.Publish(From(persistenceId, cause));

    /// <summary>
    /// The line for the user. <paramref name="journal"/> names the journal (its file), <paramref name="workDir"/>
    /// the folder that is full, <paramref name="lastCheckpoint"/> the newest checkpoint on disk, if any.
    /// </summary>
    public string Describe(string journal, string workDir, string? lastCheckpoint) => Problem switch
    {
        JournalProblem.DiskFull => DiskFull.Message(Path.GetDirectoryName(journal) is { Length: > 0 } folder ? folder : workDir, lastCheckpoint),
        JournalProblem.Damaged => JournalIntegrity.DamagedMessage(journal, Detail, lastCheckpoint),
        _ => $"the job's journal failed ({Detail}); the checkpoints are intact: check that {journal} is reachable and writable, then rerun",
    };

    /// <summary>SQLite's own words for the error ("database disk image is malformed"), without the code around them.</summary>
    internal static string SqliteText(SqliteException e)
    {
        var message = e.Message;
        var open = message.IndexOf('\'');
        var close = message.LastIndexOf('\'');
        return open >= 0 && close > open ? message[(open + 1)..close] : message.Split('\n')[0];
    }
}
