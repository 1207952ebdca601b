using Akka.Configuration;
using Microsoft.Extensions.Logging;
using Orchestrator.Actors.Hosting;

namespace Orchestrator.Cli.Terminal;

/// <summary>
/// The program's one console format for log lines, behind Microsoft.Extensions.Logging (Akka's log arrives
/// through Akka.Hosting's bridge): the actors' lines for the user (<see cref="OrchestratorLog"/>) on stderr as
/// "warning: ..." and "error: ..." like every other line the CLI prints, always; Akka's own log on stdout in
/// Akka's format, from the level the caller allows.
/// </summary>
internal static class TerminalLog
{
    /// <summary>train, history, status, plot: Akka's own log only with ORCHESTRATOR_DEBUG (see <see cref="AkkaLogging"/>).</summary>
    public static ILoggerFactory ForLocalCommand() =>
        Create(Environment.GetEnvironmentVariable("ORCHESTRATOR_DEBUG") is null ? LogLevel.None : LogLevel.Warning);

    /// <summary>A node: Akka's own log from the level its configuration names (akka.loglevel, ERROR by default).</summary>
    public static ILoggerFactory ForNode(Config nodeConfig) => Create(OrchestratorActorSystem.ConfiguredLevel(nodeConfig));

    private static ILoggerFactory Create(LogLevel akkasOwnFrom) =>
        LoggerFactory.Create(logging => logging.SetMinimumLevel(LogLevel.Trace).AddProvider(new Provider(akkasOwnFrom)));

    private sealed class Provider(LogLevel akkasOwnFrom) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new Line(categoryName, akkasOwnFrom);

        public void Dispose()
        {
        }
    }

    private sealed class Line(string category, LogLevel akkasOwnFrom) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var text = formatter(state, exception);
            if (category == OrchestratorLog.Source)
            {
                Console.Error.WriteLine(ForPeople(logLevel, text));
                return;
            }
            // Akka names a string source with its system's address: "orchestrator (akka://orchestrator)".
            if (SourceOf(state) is { } source && (source == OrchestratorLog.Source || source.StartsWith(OrchestratorLog.Source + " (", StringComparison.Ordinal)))
            {
                // Akka's format puts "[LEVEL][time][thread][source] " before the message: the person needs only the message.
                var marker = $"[{source}] ";
                var start = text.IndexOf(marker, StringComparison.Ordinal);
                Console.Error.WriteLine(ForPeople(logLevel, start < 0 ? text : text[(start + marker.Length)..]));
                return;
            }
            if (akkasOwnFrom != LogLevel.None && logLevel >= akkasOwnFrom)
            {
                Console.Out.WriteLine(exception is null ? text : $"{text}{Environment.NewLine}{exception}");
            }
        }

        private static string ForPeople(LogLevel level, string message) => level switch
        {
            >= LogLevel.Error => $"error: {message}",
            LogLevel.Warning => $"warning: {message}",
            _ => message,
        };

        private static string? SourceOf<TState>(TState state) =>
            state is IEnumerable<KeyValuePair<string, object?>> pairs
                ? pairs.FirstOrDefault(pair => pair.Key == "LogSource").Value?.ToString()
                : null;
    }
}
