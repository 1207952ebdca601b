using Microsoft.Data.Sqlite;

namespace Orchestrator.Actors.Persistence;

/// <summary>
/// Writes a first run's SQLite journal once before the actor system opens it. Akka.Persistence.Sql creates
/// its tables inside the journal's recovery, where a full disk surfaces only as "Recovery timed out" after
/// 30 s; a table created and dropped in one transaction makes SQLite allocate and write pages the way the
/// journal's tables will, so a full disk (SQLITE_FULL, ENOSPC) is met here, in a second, and named.
/// </summary>
public static class JournalWriteProbe
{
    private const string ProbeTable = "orchestrator_write_probe";

    /// <summary>
    /// Throws what SQLite throws if the journal's file cannot be created and written; does nothing for a
    /// journal that already holds data (its tables exist: a full disk then fails a persist, which is named)
    /// or for PostgreSQL.
    /// </summary>
    public static void WriteFirst(JournalSettings journal)
    {
        if (journal.SqliteFile is not { } file || (File.Exists(file) && new FileInfo(file).Length > 0))
        {
            return;
        }
        var connection = new SqliteConnectionStringBuilder
        {
            DataSource = file,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false, // the file is closed when this returns, before the journal opens it
            DefaultTimeout = 10,
        };
        using var sqlite = new SqliteConnection(connection.ToString());
        sqlite.Open();
        using var command = sqlite.CreateCommand();
        command.CommandText = $"BEGIN IMMEDIATE; CREATE TABLE {ProbeTable} (x); DROP TABLE {ProbeTable}; COMMIT;";
        command.ExecuteNonQuery();
    }
}
