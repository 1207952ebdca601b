using Microsoft.Data.Sqlite;
using Orchestrator.Actors.Persistence;

namespace Orchestrator.Actors.Tests.Persistence;

/// <summary>What a journal failure is called, and the up-front check of a SQLite journal's file.</summary>
public sealed class JournalFailureTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void SQLite_errors_and_unreadable_events_are_told_apart()
    {
        Assert.Equal(JournalProblem.DiskFull, JournalFailed.From("p", new SqliteException("SQLite Error 13: 'database or disk is full'.", 13)).Problem);
        Assert.Equal(JournalProblem.DiskFull, JournalFailed.From("p", new AggregateException(new IOException("No space left on device", 28))).Problem);
        var damaged = JournalFailed.From("p", new InvalidOperationException("replay", new SqliteException("SQLite Error 11: 'database disk image is malformed'.", 11)));
        Assert.Equal(new JournalFailed("p", JournalProblem.Damaged, "SQLite: database disk image is malformed"), damaged);
        var unparsable = JournalFailed.From("p", new AggregateException(new Newtonsoft.Json.JsonSerializationException("Type specified in JSON 'X\u0001\uFFFD' was not resolved.")));
        Assert.Equal(new JournalFailed("p", JournalProblem.Damaged, "an event does not parse: Type specified in JSON 'X??' was not resolved."), unparsable);
        Assert.Equal(JournalProblem.Failed, JournalFailed.From("p", new TimeoutException("no answer")).Problem);
    }

    [Fact]
    public void The_lines_name_the_folder_or_file_and_the_checkpoint_to_resume_from()
    {
        Assert.Equal("no space left on /disk (checkpoints up to iter_20 are intact; free space and rerun)",
            new JournalFailed("p", JournalProblem.DiskFull, "x").Describe("/disk/journal.db", "/work", "iter_20"));
        Assert.Equal("/w/journal.db is damaged (SQLite: database disk image is malformed); the checkpoints are intact: move it aside and rerun to resume from iter_20",
            new JournalFailed("p", JournalProblem.Damaged, "SQLite: database disk image is malformed").Describe("/w/journal.db", "/w", "iter_20"));
    }

    [Fact]
    public void Quick_check_finds_a_journal_cut_to_half_and_passes_a_sound_or_absent_one()
    {
        var file = _temp.Sub("journal.db");
        var journal = new JournalSettings(JournalSettings.SqliteProvider, $"Data Source={file}");
        Assert.Null(JournalIntegrity.Damage(journal));
        using (var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = file, Pooling = false }.ToString()))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = """
                CREATE TABLE events (id INTEGER PRIMARY KEY, payload TEXT);
                WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
                INSERT INTO events (payload) SELECT printf('event %d with some text to fill the page', i) FROM n;
                CREATE INDEX events_payload ON events (payload);
                """;
            command.ExecuteNonQuery();
        }
        Assert.Null(JournalIntegrity.Damage(journal));

        using (var stream = new FileStream(file, FileMode.Open))
        {
            stream.SetLength(stream.Length / 2);
        }

        Assert.StartsWith("SQLite: database disk image is malformed", JournalIntegrity.Damage(journal));
    }
}
