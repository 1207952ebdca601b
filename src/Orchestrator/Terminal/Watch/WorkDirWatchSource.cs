using Akka.Actor;
using Orchestrator.Actors.Job;
using Orchestrator.Actors.Persistence;

namespace Orchestrator.Cli.Terminal.Watch;

/// <summary>
/// Snapshots of a job in a work dir, from its journal and TensorBoard files. One reader actor system lives
/// as long as the watch (starting one takes about a second, too slow for every refresh); each poll replays
/// the journal with a fresh history reader, which is cheap: the journal holds checkpoints, not steps.
/// </summary>
internal sealed class WorkDirWatchSource : IWatchSource
{
    private static readonly TimeSpan JournalTimeout = TimeSpan.FromSeconds(30);

    private readonly string _workDir;
    private readonly JournalSettings _journal;
    private readonly TensorBoardTail _tensorBoard;
    private readonly ActorSystem _system;

    public WorkDirWatchSource(string workDir, JournalSettings journal, int keepLosses)
    {
        _workDir = workDir;
        _journal = journal;
        _tensorBoard = new TensorBoardTail(Trainer.Metrics.TensorBoardLog.DirectoryIn(workDir), keepLosses);
        // Started now, while the watch may still wait for the journal: the first read is slow enough as it is.
        _system = OrchestratorSystem.Create("orchestrator-watch", journal);
    }

    public WatchSnapshot Poll()
    {
        // A SQLite journal is created by the first train; opening it here first would create an empty one.
        if (_journal.SqliteFile is { } file && !File.Exists(file))
        {
            return WorkDirSnapshots.Waiting(_workDir, $"no journal at {file} yet", DateTimeOffset.Now);
        }
        // TensorBoard first: the journal read after it is at least as new, so no step shows without the
        // checkpoint that came before it.
        var scalars = _tensorBoard.Read();
        var history = ReadHistory();
        if (history.Events.Count == 0 || history.State.Spec is null)
        {
            return WorkDirSnapshots.Waiting(_workDir, "the journal has no job for it yet", DateTimeOffset.Now);
        }
        return WorkDirSnapshots.From(_workDir, history, scalars, DateTimeOffset.Now);
    }

    public void Dispose() => _system.Terminate().Wait(TimeSpan.FromSeconds(10));

    private JobHistory ReadHistory()
    {
        var reader = _system.ActorOf(JobHistoryReader.Props(JobSupervisor.PersistenceIdFor(_workDir)));
        try
        {
            return reader.Ask<JobHistory>(Actors.Job.ReadHistory.Instance, JournalTimeout).GetAwaiter().GetResult();
        }
        finally
        {
            _system.Stop(reader);
        }
    }
}
