using Akka.Configuration;
using Akka.Persistence.Sql;

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

    public static JournalSettings SqliteIn(string workDir) =>
        new(SqliteProvider, $"Data Source={Path.GetFullPath(Path.Combine(workDir, "journal.db"))}");

    /// <summary>The SQLite file this journal lives in (null for PostgreSQL).</summary>
    public string? SqliteFile => ProviderName == SqliteProvider && ConnectionString.StartsWith("Data Source=", StringComparison.Ordinal)
        ? ConnectionString["Data Source=".Length..]
        : null;

    public static JournalSettings Postgres(string connectionString) => new(PostgresProvider, connectionString);

    /// <summary><c>sqlite</c> (the default, in the work dir), <c>sqlite:FILE</c> or <c>postgres:Host=...;Database=...;Username=...</c>.</summary>
    public static JournalSettings Parse(string? text, string workDir) => text switch
    {
        null or "sqlite" => SqliteIn(workDir),
        _ when text.StartsWith(SqlitePrefix, StringComparison.Ordinal) && text.Length > SqlitePrefix.Length =>
            new(SqliteProvider, $"Data Source={Path.GetFullPath(text[SqlitePrefix.Length..])}"),
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
