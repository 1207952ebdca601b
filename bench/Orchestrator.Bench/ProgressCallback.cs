using Akka.Actor;

namespace Orchestrator.Bench;

/// <summary>The job's progress reporter for a measurement: hands every progress message to a callback.</summary>
internal sealed class ProgressCallback : ReceiveActor
{
    public ProgressCallback(Action<object> handle) => ReceiveAny(handle);

    public static Props Props(Action<object> handle) => Akka.Actor.Props.Create(() => new ProgressCallback(handle));
}
