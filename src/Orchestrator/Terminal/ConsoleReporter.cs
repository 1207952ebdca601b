using Akka.Actor;
using Orchestrator.Actors.Job;

namespace Orchestrator.Cli.Terminal;

/// <summary>Receives the supervisor's progress messages and shows them through the console observer.</summary>
internal sealed class ConsoleReporter : ReceiveActor
{
    public ConsoleReporter(ProgressObserver observer)
    {
        Receive<ProgressStarted>(m => observer.Started(m.Start, m.Startup));
        Receive<ProgressStep>(m => observer.Stepped(m.Step));
        Receive<ProgressSaved>(m => observer.Saved(m.Save));
        Receive<ProgressNote>(m => observer.Note(m.Message));
        Receive<ProgressRestart>(_ => { });
    }

    public static Props Props(ProgressObserver observer) => Akka.Actor.Props.Create(() => new ConsoleReporter(observer));
}
