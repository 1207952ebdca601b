using Akka.Actor;
using Orchestrator.Actors.Job;
using Orchestrator.Trainer.Metrics;

namespace Orchestrator.Cli.Console;

/// <summary>
/// Receives the supervisor's progress messages, shows them through the console observer and writes them as
/// TensorBoard scalars into the work dir.
/// </summary>
internal sealed class ConsoleReporter : ReceiveActor
{
    private TensorBoardLog? _tensorBoard;

    public ConsoleReporter(ProgressObserver observer, string workDir)
    {
        Receive<ProgressStarted>(m =>
        {
            _tensorBoard = new TensorBoardLog(workDir, m.Start.FirstIteration);
            observer.Started(m.Start);
        });
        Receive<ProgressStep>(m =>
        {
            _tensorBoard?.Stepped(m.Step);
            observer.Stepped(m.Step);
        });
        Receive<ProgressSaved>(m =>
        {
            _tensorBoard?.Saved(m.Save);
            observer.Saved(m.Save);
        });
        Receive<ProgressRestart>(m => _tensorBoard?.Restarted(m.FromStep, m.Restarts));
        Receive<ProgressNote>(m => observer.Note(m.Message));
    }

    public static Props Props(ProgressObserver observer, string workDir) => Akka.Actor.Props.Create(() => new ConsoleReporter(observer, workDir));
}
