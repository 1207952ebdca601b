using Microsoft.Data.Sqlite;
using Orchestrator.Actors.Persistence;

namespace Orchestrator.Actors.Tests.Persistence;

public sealed class JournalSettingsTests
{
    [Theory]
    [InlineData("/tmp/x;Data Source=/tmp/y")]
    [InlineData("/tmp/a;b")]
    [InlineData("/tmp/quote\"d 'dir'")]
    public void A_work_dir_path_stays_one_file_name_in_the_connection_string(string workDir)
    {
        var journal = JournalSettings.SqliteIn(workDir);

        Assert.Equal(Path.Combine(workDir, "journal.db"), journal.SqliteFile);
        Assert.Equal(Path.Combine(workDir, "journal.db"), new SqliteConnectionStringBuilder(journal.ConnectionString).DataSource);
    }

    [Fact]
    public void A_named_sqlite_file_with_a_semicolon_is_that_file()
    {
        var journal = JournalSettings.Parse("sqlite:/shared/a;Mode=ReadOnly.db", ".");

        Assert.Equal("/shared/a;Mode=ReadOnly.db", journal.SqliteFile);
        Assert.Equal(SqliteOpenMode.ReadWriteCreate, new SqliteConnectionStringBuilder(journal.ConnectionString).Mode);
    }

    [Fact]
    public void A_postgres_journal_has_no_sqlite_file()
    {
        Assert.Null(JournalSettings.Parse("postgres:Host=db;Database=o", ".").SqliteFile);
    }
}
