using Akka.Actor;
using Akka.Event;
using Akka.Hosting.Logging;
using Microsoft.Extensions.Logging;
using LogLevel = Microsoft.Extensions.Logging.LogLevel;

namespace Orchestrator.Actors.Hosting;

/// <summary>
/// The lines actors write for the person at the console ("the cluster refused this node", "gradients go
/// through Akka.Remote"). They go through Akka's logging under one source, <see cref="Source"/>, so a
/// console can show them while it hides Akka's own log, which is pages of stack for failures the program
/// already reports in one line of its own.
/// </summary>
public static class OrchestratorLog
{
    public const string Source = "orchestrator";

    public static ILoggingAdapter For(IActorContext context) => Logging.GetLogger(context.System, Source);

    /// <summary>A warning for the person at the console, taken as it is (braces in it are text, not placeholders).</summary>
    public static void Warning(IActorContext context, string message) => For(context).Warning("{0}", message);

    /// <summary>
    /// A line that must be out before the process ends right after it (an injected kill, a node the cluster
    /// turned away): written through the system's logger factory at once, since Akka's logger actor might get to
    /// it only after the process is gone. A system without a logger factory (a test kit's) gets it through
    /// Akka's log as any other line.
    /// </summary>
    public static void LastWords(ActorSystem system, bool isError, string message)
    {
        if (system.Settings.Setup.Get<LoggerFactorySetup>() is { HasValue: true } setup)
        {
            setup.Value.LoggerFactory.CreateLogger(Source).Log(isError ? LogLevel.Error : LogLevel.Warning, "{Message}", message);
            return;
        }
        var log = Logging.GetLogger(system, Source);
        if (isError)
        {
            log.Error("{0}", message);
        }
        else
        {
            log.Warning("{0}", message);
        }
    }
}
