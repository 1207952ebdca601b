using Akka.Configuration;
using Akka.Persistence.Sql;
using Microsoft.Data.Sqlite;

namespace Orchestrator.Actors.Persistence;

/// <summary>
/// Where the job journal lives: by default a SQLite file in the work dir (zero setup); PostgreSQL for a
/// shared journal. Both go through Akka.Persistence.Sql; tables are created on first use.
/// </summary>
public sealed record JournalSettings(string ProviderName, string ConnectionString)
{
    public const string SqliteProvider = "SQLite.MS";
    public const string PostgresProvider = "PostgreSQL.15";
    public const string PostgresPrefix = "postgres:";
    public const string SqlitePrefix = "sqlite:";

    public static JournalSettings SqliteIn(string workDir) => SqliteAt(Path.Combine(workDir, "journal.db"));

    /// <summary>
    /// A path is data: the provider's builder quotes it, so a <c>;</c> or <c>Data Source=</c> inside a work
    /// dir's name stays part of the file name instead of becoming another setting.
    /// </summary>
    public static JournalSettings SqliteAt(string file) =>
        new(SqliteProvider, new SqliteConnectionStringBuilder { DataSource = Path.GetFullPath(file) }.ConnectionString);

    /// <summary>The SQLite file this journal lives in (null for PostgreSQL).</summary>
    public string? SqliteFile => ProviderName == SqliteProvider
        ? new SqliteConnectionStringBuilder(ConnectionString).DataSource
        : null;

    public static JournalSettings Postgres(string connectionString) => new(PostgresProvider, connectionString);

    /// <summary><c>sqlite</c> (the default, in the work dir), <c>sqlite:FILE</c> or <c>postgres:Host=...;Database=...;Username=...</c>.</summary>
    public static JournalSettings Parse(string? text, string workDir) => text switch
    {
        null or "sqlite" => SqliteIn(workDir),
        _ when text.StartsWith(SqlitePrefix, StringComparison.Ordinal) && text.Length > SqlitePrefix.Length =>
            SqliteAt(text[SqlitePrefix.Length..]),
        _ when text.StartsWith(PostgresPrefix, StringComparison.Ordinal) && text.Length > PostgresPrefix.Length => Postgres(text[PostgresPrefix.Length..]),
        _ => throw new ArgumentException($"journal '{text}' is not 'sqlite', 'sqlite:FILE' or 'postgres:CONNECTION-STRING' (e.g. postgres:Host=localhost;Database=orchestrator;Username=me)"),
    };

    /// <summary>
    /// Opens one connection, so an unreachable or misspelled database is one clear line at start instead of
    /// a journal that never answers.
    /// </summary>
    public void CheckReachable()
    {
        if (ProviderName != PostgresProvider)
        {
            return;
        }
        try
        {
            var builder = new Npgsql.NpgsqlConnectionStringBuilder(ConnectionString) { Timeout = 10 };
            using var connection = new Npgsql.NpgsqlConnection(builder.ConnectionString);
            connection.Open();
        }
        catch (Exception e) when (e is ArgumentException or Npgsql.NpgsqlException or System.Net.Sockets.SocketException or TimeoutException)
        {
            throw new ArgumentException($"cannot use the PostgreSQL journal ({e.Message.Split('\n')[0].TrimEnd('.')}); check the connection string after 'postgres:'");
        }
    }

    public Config ToConfig() => ConfigurationFactory.ParseString($$"""
        akka.persistence {
          journal {
            plugin = "akka.persistence.journal.sql"
            sql { connection-string = {{Quote(ConnectionString)}}, provider-name = {{Quote(ProviderName)}}, auto-initialize = on }
          }
          snapshot-store {
            plugin = "akka.persistence.snapshot-store.sql"
            sql { connection-string = {{Quote(ConnectionString)}}, provider-name = {{Quote(ProviderName)}}, auto-initialize = on }
          }
        }
        """).WithFallback(SqlPersistence.DefaultConfiguration);

    private static string Quote(string value) => "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}
