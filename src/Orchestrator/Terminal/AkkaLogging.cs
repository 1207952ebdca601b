using Akka.Configuration;

namespace Orchestrator.Cli.Terminal;

/// <summary>
/// Akka's own log for the local commands (train, history, status, plot): off, since each failure they can
/// meet reaches the user as one line of their own (a journal that fails, a rank that fails), and Akka's
/// record of the same failure is pages of stack; on again at WARNING with ORCHESTRATOR_DEBUG set, the way
/// the top-level error handler then prints its stack traces.
/// </summary>
internal static class AkkaLogging
{
    public static Config ForLocalCommand { get; } = Environment.GetEnvironmentVariable("ORCHESTRATOR_DEBUG") is null
        ? ConfigurationFactory.ParseString("akka { loglevel = OFF, stdout-loglevel = OFF }")
        : Config.Empty;
}
