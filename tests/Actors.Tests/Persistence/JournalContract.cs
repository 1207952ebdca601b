using System.Text;
using Akka.Actor;
using Akka.Persistence;
using Microsoft.Data.Sqlite;
using Orchestrator.Actors.Cluster;
using Orchestrator.Actors.Job;
using Orchestrator.Actors.Persistence;
using Orchestrator.Trainer.Checkpointing;
using Orchestrator.Trainer.Jobs;
using Orchestrator.Trainer.Jobs.Loading;

namespace Orchestrator.Actors.Tests.Persistence;

/// <summary>
/// Every job event and the snapshot state, written through the real SQL journal and read back from its
/// tables as bytes: the serializer id, the manifest and the payload another build must read alike.
/// </summary>
internal static class JournalContract
{
    public const string PersistenceId = "job-contract";
    public const string CoordinatorPersistenceId = "coordinator-contract";

    private static readonly DateTimeOffset At = new(2026, 12, 7, 13, 14, 15, 678, TimeSpan.Zero);

    public static readonly JobSpec Spec = new()
    {
        Job = "custom",
        WorkDir = "/work/contract",
        JobOptions = new BuiltInJobOptions { Seed = 7, BatchSize = 32, LearningRate = 0.05, Samples = 512, Width = 48, Device = "cuda:1", Rank = 1, Ranks = 4 },
        JobAssembly = new JobAssemblyRef("/work/jobs/Custom.dll", "ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12"),
        JobArgs = new Dictionary<string, string> { ["depth"] = "3", ["note"] = "a \"quoted\" value" },
        GlobalBatchSize = 64,
        Ranks = 4,
        MinRanks = 2,
        MaxRanks = 6,
        Steps = 1000,
        Epochs = null,
        Threads = 3,
        Schedule = new CheckpointSchedule(EveryIterations: 100, EveryEpochs: 2, EverySeconds: 90.5, SaveLast: false),
        Keep = 3,
        NameTemplate = "epoch_{epoch}_iter_{n}",
        ResumePath = "/work/contract/checkpoints/iter_100",
        FreshStart = true,
        LoadFrom = "/work/pretrained/iter_9",
        ModelLoad = new ModelLoadOptions
        {
            Strict = false,
            RemovePrefix = "module.",
            AddPrefix = "backbone.",
            Revisions = [new KeyRevision("^encoder\\.", "enc."), new KeyRevision("^module\\.", "")],
            IgnoreKeys = ["^head\\."],
        },
        SkipOptimizerState = true,
        SkipSchedulerState = true,
        Faults = ["crash@step=15,rank=1", "kill-process@step=25"],
        Restarts = new RestartPolicy { MaxRestarts = 7, Window = TimeSpan.FromMinutes(3), BaseDelay = TimeSpan.FromMilliseconds(150), MaxDelay = TimeSpan.FromSeconds(12) },
        StepTimeout = TimeSpan.FromSeconds(45),
    };

    private static readonly CheckpointCommitted Checkpoint = new(200, "iter_200", "/work/contract/checkpoints/iter_200", "5f".PadRight(64, '0'), 0.4321, "schedule", At.AddSeconds(4));

    /// <summary>One of every event type, every field set (the optional ones too).</summary>
    public static readonly IReadOnlyList<JobEvent> Events =
    [
        new JobSubmitted(Spec, At),
        new JobExtended(2000, 3, At.AddSeconds(1)),
        new JobCodeChanged(new JobAssemblyRef("/work/jobs/Custom2.dll", "cd".PadRight(64, '1')), "/work/contract/checkpoints/iter_100", At.AddSeconds(2)),
        new RanksStarted(3, 4, "iter_100", 100, At.AddSeconds(3), ["node-a:4053", "node-b:4053", "node-b:4053", "node-c:4053"]),
        Checkpoint,
        new FaultFired("crash@step=15,rank=1", At.AddSeconds(5)),
        new RankFailed(3, 1, 215, "injected crash on rank 1 at step 215", At.AddSeconds(6)),
        new RestartScheduled(4, "all", 1, "iter_200", 200, 14, 400.5, At.AddSeconds(7)),
        new WorldResized(4, 2, "iter_200", 200, "node node-c:4053 left the cluster", At.AddSeconds(8)),
        new JobCompleted(1000, "9a".PadRight(64, '2'), At.AddSeconds(9)),
        new JobFailed("rank 0 failed at step 7: loss is NaN at step 7; restart limit reached", "iter_200", At.AddSeconds(10)),
        new JobStopped(300, "iter_300", At.AddSeconds(11)),
    ];

    /// <summary>The cluster coordinator's journal: the jobs it owes work to, replayed by the next coordinator.</summary>
    public static readonly IReadOnlyList<CoordinatorEvent> CoordinatorEvents =
    [
        new ClusterJobSubmitted(Spec, At.AddSeconds(12)),
        new ClusterJobEnded("/work/contract", "completed", At.AddSeconds(13)),
    ];

    /// <summary>The snapshot: a state with every field set, as the supervisor saves it.</summary>
    public static readonly JobState State = new()
    {
        Status = JobStatus.Restarting,
        Spec = Spec,
        LastCheckpoint = Checkpoint,
        Step = 215,
        Generation = 4,
        Restarts = [At.AddSeconds(7), At.AddSeconds(8)],
        FiredFaults = ["crash@step=15,rank=1"],
        FinalWeightsSha256 = "9a".PadRight(64, '2'),
        FailureReason = "rank 0 failed",
        Failures = 2,
    };

    /// <summary>Writes <see cref="Events"/> and a snapshot of <see cref="State"/> with <paramref name="system"/>'s journal, then describes the rows of <paramref name="sqliteFile"/>.</summary>
    public static async Task<string> DescribeAsync(ActorSystem system, string sqliteFile)
    {
        foreach (var (id, events, snapshot) in new[] { (PersistenceId, Events.Cast<object>().ToList(), (object?)State), (CoordinatorPersistenceId, CoordinatorEvents.Cast<object>().ToList(), null) })
        {
            var writer = system.ActorOf(Props.Create(() => new ContractWriter(id, events, snapshot)));
            await writer.Ask<Written>(Write.Instance, TimeSpan.FromSeconds(60));
            system.Stop(writer);
        }

        var text = new StringBuilder()
            .Append("# What the job journal stores, written by tests/Actors.Tests/Persistence/JournalContractTests.cs.\n")
            .Append("# Journals of earlier builds must still replay: a change here needs a migration or explicit manifests.\n")
            .Append("# Per row: the table, the type it holds, the serializer id, the manifest, then the payload as stored.\n");
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = sqliteFile, Mode = SqliteOpenMode.ReadOnly }.ConnectionString);
        connection.Open();
        const string Journal = "SELECT identifier, manifest, message FROM journal WHERE persistence_id = $id ORDER BY sequence_number";
        Rows(connection, text, PersistenceId, "journal", Journal, Events.Select(e => e.GetType().Name).ToList());
        Rows(connection, text, PersistenceId, "snapshot", "SELECT serializer_id, manifest, snapshot FROM snapshot WHERE persistence_id = $id ORDER BY sequence_number", [nameof(JobState)]);
        Rows(connection, text, CoordinatorPersistenceId, "journal", Journal, CoordinatorEvents.Select(e => e.GetType().Name).ToList());
        return text.ToString();
    }

    private static void Rows(SqliteConnection connection, StringBuilder text, string persistenceId, string table, string sql, IReadOnlyList<string> types)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Parameters.AddWithValue("$id", persistenceId);
        using var reader = command.ExecuteReader();
        var row = 0;
        while (reader.Read())
        {
            var type = row < types.Count ? types[row] : "(unexpected row)";
            text.Append($"{table} {type}: serializer {reader.GetInt32(0)}, manifest '{(reader.IsDBNull(1) ? "" : reader.GetString(1))}'\n");
            text.Append("  ").Append(Encoding.UTF8.GetString((byte[])reader[2])).Append('\n');
            row++;
        }
        if (row != types.Count)
        {
            throw new InvalidOperationException($"the {table} table holds {row} row(s) for {persistenceId}, not {types.Count}");
        }
    }

    private sealed class Write
    {
        public static readonly Write Instance = new();
    }

    private sealed class Written
    {
        public static readonly Written Instance = new();
    }

    private sealed class ContractWriter : ReceivePersistentActor
    {
        private IActorRef _requester = ActorRefs.Nobody;

        public ContractWriter(string persistenceId, IReadOnlyList<object> events, object? snapshot)
        {
            PersistenceId = persistenceId;
            Command<Write>(_ =>
            {
                _requester = Sender;
                PersistAll(events, _ => { });
                DeferAsync(events.Count, _ =>
                {
                    if (snapshot is null)
                    {
                        _requester.Tell(Written.Instance);
                        return;
                    }
                    SaveSnapshot(snapshot);
                });
            });
            Command<SaveSnapshotSuccess>(_ => _requester.Tell(Written.Instance));
            Command<SaveSnapshotFailure>(failure => _requester.Tell(new Status.Failure(failure.Cause)));
        }

        public override string PersistenceId { get; }
    }
}
