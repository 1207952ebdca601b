using Akka.Actor;
using Akka.Persistence;

namespace Orchestrator.Actors.Job;

/// <summary>Replays a job's whole journal (ignoring snapshots) and answers <see cref="ReadHistory"/> with every event.</summary>
public sealed class JobHistoryReader : ReceivePersistentActor
{
    private readonly List<JobEvent> _events = [];

    public JobHistoryReader(string persistenceId)
    {
        PersistenceId = persistenceId;
        Recover<JobEvent>(_events.Add);
        Command<ReadHistory>(_ => Sender.Tell(new JobHistory(_events.ToList())));
    }

    public override string PersistenceId { get; }

    public override Recovery Recovery => new(SnapshotSelectionCriteria.None);

    // Akka.Persistence stops this actor after it; the event stream tells the command why, in one line.
    protected override void OnRecoveryFailure(Exception reason, object? message = null) =>
        Persistence.JournalFailed.Publish(Context.System, PersistenceId, reason);

    public static Props Props(string persistenceId) => Akka.Actor.Props.Create(() => new JobHistoryReader(persistenceId));
}

public sealed class ReadHistory
{
    public static readonly ReadHistory Instance = new();
}

public sealed record JobHistory(IReadOnlyList<JobEvent> Events)
{
    public JobState State => Events.Aggregate(JobState.Empty, (state, e) => state.Apply(e));
}
