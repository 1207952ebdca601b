using Microsoft.Data.Sqlite;

namespace Orchestrator.Actors.Persistence;

/// <summary>
/// Checks a SQLite journal before the actor system opens it: a truncated or overwritten journal.db otherwise
/// surfaces as a recovery that times out after a minute in thousands of lines of stack. PRAGMA quick_check
/// reads every page once (it skips the index cross-checks of integrity_check); see the README for its cost.
/// </summary>
public static class JournalIntegrity
{
    /// <summary>
    /// SQLite's description of the damage to the journal's file ("SQLite: database disk image is malformed"),
    /// or null if it is sound, absent, empty, not SQLite (PostgreSQL), or busy beyond the wait.
    /// </summary>
    public static string? Damage(JournalSettings journal)
    {
        if (journal.SqliteFile is not { } file || !File.Exists(file) || new FileInfo(file).Length == 0)
        {
            return null;
        }
        var connection = new SqliteConnectionStringBuilder
        {
            DataSource = file,
            Mode = SqliteOpenMode.ReadWrite, // never creates; may replay a WAL left by a killed writer
            Pooling = false,
            DefaultTimeout = 10,
        };
        try
        {
            using var sqlite = new SqliteConnection(connection.ToString());
            sqlite.Open();
            using var command = sqlite.CreateCommand();
            command.CommandText = "PRAGMA quick_check(1)";
            var result = command.ExecuteScalar() as string;
            return result is null or "ok" ? null : $"SQLite: database disk image is malformed; quick_check: {Finding(result)}";
        }
        catch (SqliteException e) when (JournalFailed.From("", e).Problem == JournalProblem.Damaged)
        {
            return "SQLite: " + JournalFailed.SqliteText(e);
        }
        catch (SqliteException)
        {
            return null; // busy or locked by a writer: not damage, and the journal itself will say more
        }
    }

    // quick_check's first finding on one line, without its "*** in database main ***" heading.
    private static string Finding(string result) =>
        string.Join("; ", result.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(l => !l.StartsWith("***", StringComparison.Ordinal)));

    /// <summary>The line for a damaged journal, as <c>train</c> says it.</summary>
    public static string DamagedMessage(string journal, string damage, string? lastCheckpoint) =>
        $"{journal} is damaged ({damage}); the checkpoints are intact: move it aside and rerun to resume from {lastCheckpoint ?? "the start"}";
}

/// <summary>A journal that cannot be used, with the line that says why and what to do (exit 1).</summary>
public sealed class JournalFailedException(string message) : Exception(message);
