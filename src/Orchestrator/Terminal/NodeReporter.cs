using System.Diagnostics;
using System.Globalization;
using Akka.Actor;
using Orchestrator.Actors.Job;

namespace Orchestrator.Cli.Terminal;

/// <summary>
/// A node's console: one timestamped line per event that matters (nodes joining and leaving, jobs starting,
/// checkpoints, failures, resizes) and a progress line at most every few seconds. Lines, not a redrawn bar:
/// node output usually goes to a container log.
/// </summary>
internal sealed class NodeReporter : ReceiveActor
{
    private static readonly TimeSpan ProgressEvery = TimeSpan.FromSeconds(5);
    private readonly Stopwatch _sinceProgress = Stopwatch.StartNew();

    public NodeReporter()
    {
        Receive<ProgressStarted>(m => Line($"job {m.Start.Job} starts at step {m.Start.FirstIteration} of {m.Start.TotalIterations}{(m.Start.ResumedFrom is { } from ? $" from {Path.GetFileName(from)}" : "")}"));
        Receive<ProgressStep>(m =>
        {
            if (_sinceProgress.Elapsed < ProgressEvery && m.Step.Iteration != m.Step.TotalIterations)
            {
                return;
            }
            _sinceProgress.Restart();
            Line(string.Create(CultureInfo.InvariantCulture, $"step {m.Step.Iteration}/{m.Step.TotalIterations} loss {m.Step.Loss:0.0000} {m.Step.StepsPerSecond:0.0} steps/s"));
        });
        Receive<ProgressSaved>(m => Line(string.Create(CultureInfo.InvariantCulture, $"checkpoint {m.Save.Name} at step {m.Save.Iteration} ({m.Save.Reason}), stall {m.Save.Stall.TotalMilliseconds:0} ms")));
        Receive<ProgressNote>(m => Line(m.Message));
        Receive<ProgressRestart>(m => Line($"restart {m.Restarts} from step {m.FromStep}"));
    }

    public static Props Props() => Akka.Actor.Props.Create(() => new NodeReporter());

    private static void Line(string text) => Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{DateTime.UtcNow:HH:mm:ss.fff} {text}"));
}
