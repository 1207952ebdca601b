using Akka.Actor;
using Akka.Configuration;
using Microsoft.Extensions.Logging;
using Orchestrator.Actors.Hosting;

namespace Orchestrator.Actors.Tests.Hosting;

/// <summary>
/// The builder's logging: the lines actors write for people reach the logger factory through Akka's log even
/// where Akka's own log is switched off (the CLI's default), and the last words before a process ends are
/// written before the call returns.
/// </summary>
public sealed class OrchestratorActorSystemTests
{
    [Fact]
    public async Task An_actors_warning_for_people_reaches_the_logger_factory_while_akka_loglevel_is_off()
    {
        var captured = new CapturedLines();
        using var loggers = LoggerFactory.Create(logging => logging.SetMinimumLevel(LogLevel.Trace).AddProvider(captured));
        using var system = OrchestratorActorSystem.Named("logging")
            .WithHocon(ConfigurationFactory.ParseString("akka { loglevel = OFF, stdout-loglevel = OFF }"))
            .WithLoggerFactory(loggers)
            .Build();

        system.ActorOf(Props.Create(() => new WarnsOnStart("job x will not place ranks here: {braces} are text")));

        await WaitForAsync(() => captured.Lines.Any(line => line.Level == LogLevel.Warning && line.Text.Contains("job x will not place ranks here: {braces} are text", StringComparison.Ordinal)));
        await system.Terminate();
    }

    [Fact]
    public async Task Last_words_are_with_the_logger_factory_when_the_call_returns()
    {
        var captured = new CapturedLines();
        using var loggers = LoggerFactory.Create(logging => logging.SetMinimumLevel(LogLevel.Trace).AddProvider(captured));
        using var system = OrchestratorActorSystem.Named("last-words").WithLoggerFactory(loggers).Build();

        OrchestratorLog.LastWords(system, isError: true, "the cluster refused this node: its secret does not match");

        Assert.Contains(captured.Lines, line => line is { Category: OrchestratorLog.Source, Level: LogLevel.Error } && line.Text == "the cluster refused this node: its secret does not match");
        await system.Terminate();
    }

    [Fact]
    public async Task A_recipe_of_empty_layers_builds()
    {
        using var system = OrchestratorActorSystem.Named("empty").WithHocon(Config.Empty).WithHocon(Config.Empty).Build();

        Assert.Equal("empty", system.Name);
        await system.Terminate();
    }

    // Akka's logger actor delivers in its own time; polled, with a deadline, never slept on.
    private static async Task WaitForAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the line never reached the logger factory");
            await Task.Delay(20);
        }
    }

    private sealed class WarnsOnStart : ReceiveActor
    {
        public WarnsOnStart(string message) => OrchestratorLog.Warning(Context, message);
    }

    private sealed record Captured(string Category, LogLevel Level, string Text);

    private sealed class CapturedLines : ILoggerProvider
    {
        private readonly List<Captured> _lines = [];

        public IReadOnlyList<Captured> Lines
        {
            get
            {
                lock (_lines)
                {
                    return _lines.ToList();
                }
            }
        }

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void Dispose()
        {
        }

        private sealed class Logger(CapturedLines owner, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                lock (owner._lines)
                {
                    owner._lines.Add(new Captured(category, logLevel, formatter(state, exception)));
                }
            }
        }
    }
}
