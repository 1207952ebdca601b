using Akka.Actor;
using Orchestrator.Actors.Job;
using Orchestrator.Actors.Persistence;
using Orchestrator.Trainer.Checkpointing;
using Orchestrator.Trainer.Runtime;

namespace Orchestrator.Cli.Commands;

/// <summary>
/// Turns a journal that cannot be used into the one line a user needs: a damaged SQLite file found before
/// the actor system opens it, or the failure a persistent actor published (<see cref="JournalFailed"/>) as
/// it stopped, which would otherwise be only "stopped unexpectedly" and a page of Akka log.
/// </summary>
internal sealed class JournalFailureReport
{
    // The failure is published just before the actor stops; its death may be noticed first.
    private static readonly TimeSpan PublishedWithin = TimeSpan.FromSeconds(2);

    private readonly Inbox _inbox;

    private JournalFailureReport(ActorSystem system)
    {
        _inbox = Inbox.Create(system);
        system.EventStream.Subscribe(_inbox.Receiver, typeof(JournalFailed));
    }

    /// <summary>Starts listening on <paramref name="system"/>, before the persistent actor is created.</summary>
    public static JournalFailureReport ListenOn(ActorSystem system) => new(system);

    /// <summary>The journal failure published by an actor that has stopped, if that is why it stopped.</summary>
    public JournalFailed? Published()
    {
        try
        {
            return _inbox.Receive(PublishedWithin) as JournalFailed;
        }
        catch (TimeoutException)
        {
            return null;
        }
    }

    /// <summary>For <c>train</c>: refuses, in one line, a journal file SQLite finds damaged.</summary>
    public static void RequireIntact(JournalSettings journal, JobSpec spec)
    {
        if (JournalIntegrity.Damage(journal) is { } damage)
        {
            throw new JournalFailedException(JournalIntegrity.DamagedMessage(NameOf(journal), damage, NewestCheckpoint(spec)));
        }
    }

    /// <summary>
    /// For <c>train</c>, before the actor system starts: the first writes into the work dir (the owner's lock,
    /// the journal's id) and into the journal (its tables, on a first run). A full disk under any of them is
    /// named in one line, with the folder that is full, instead of an IOException or a recovery that times out.
    /// </summary>
    public static T NamingFullDisk<T>(string folder, JobSpec spec, Func<T> write)
    {
        try
        {
            return write();
        }
        catch (Exception e) when (JournalFailed.From("", e).Problem == JournalProblem.DiskFull)
        {
            throw new JournalFailedException(DiskFull.Message(folder, NewestCheckpoint(spec)));
        }
    }

    /// <summary>For <c>train</c>: a first run's journal is created and written now, so a full disk under it is named at once.</summary>
    public static void RequireWritable(JournalSettings journal, JobSpec spec) =>
        NamingFullDisk(Path.GetDirectoryName(journal.SqliteFile) ?? spec.WorkDir, spec, () =>
        {
            JournalWriteProbe.WriteFirst(journal);
            return true;
        });

    /// <summary>For the commands that read a journal (history, status, plot).</summary>
    public static void RequireReadable(JournalSettings journal)
    {
        if (JournalIntegrity.Damage(journal) is { } damage)
        {
            throw new JournalFailedException(ReadingMessage(NameOf(journal), damage));
        }
    }

    public static string ReadingMessage(string journal, string damage) =>
        $"{journal} is damaged ({damage}); the checkpoints are intact: move it aside and rerun 'orchestrator train' to resume from the newest (the job's history starts anew)";

    /// <summary>The line for <c>train</c> once its supervisor stopped because of <paramref name="failed"/>.</summary>
    public static string ForTrain(JournalFailed failed, JournalSettings journal, JobSpec spec) =>
        failed.Describe(NameOf(journal), spec.WorkDir, NewestCheckpoint(spec));

    public static string NameOf(JournalSettings journal) => journal.SqliteFile ?? "the PostgreSQL journal";

    /// <summary>The newest checkpoint a rerun would resume from (verified, since the journal cannot say).</summary>
    private static string? NewestCheckpoint(JobSpec spec) =>
        new CheckpointStore(spec.CheckpointDirectory, new CheckpointNaming(spec.NameTemplate)).FindLatestValid().Checkpoint?.Name;
}
