using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit;
using Akka.TestKit.TestActors;
using Orchestrator.Actors.Job;
using Orchestrator.Actors.Tests.Support;
using Orchestrator.Trainer.Checkpointing;
using Orchestrator.Trainer.Jobs;

namespace Orchestrator.Actors.Tests.Cluster;

/// <summary>
/// In-process cluster nodes of one cpu slot each, shared by the tests of a class, and the uninterrupted run of
/// the ring's job at each world size, taken once and compared with by every faulted run at that size. The
/// nodes are started, and each uninterrupted run taken, by the first test that needs them.
/// </summary>
public sealed class RingNodes : IDisposable
{
    /// <summary>Four ranks on four nodes, and one spare for a rank whose node is lost.</summary>
    public const int Count = 5;

    private const string Secret = "ring-faults-secret";

    // A node ended by the tests (InProcessNodes.KillAsync, or at the end) does not leave the cluster first.
    private static readonly Config StopsWithoutLeaving = ConfigurationFactory.ParseString("akka.coordinated-shutdown.run-by-actor-system-terminate = off");

    private readonly TempDirectory _temp = new();
    private readonly InProcessNodes _nodes;
    private readonly Dictionary<int, Task<JobHistory>> _uninterrupted = [];
    private Task<IReadOnlyList<ActorSystem>>? _started;

    public RingNodes()
    {
        _nodes = new InProcessNodes(_temp, Secret);
    }

    public InProcessNodes Nodes => _nodes;

    /// <summary>The nodes, the first the seed (where the coordinator, and so every supervisor, runs).</summary>
    public Task<IReadOnlyList<ActorSystem>> StartedAsync(TestKitBase kit) =>
        _started ??= _nodes.StartAsync(kit, Count, () => Props.Create<BlackHoleActor>(), StopsWithoutLeaving);

    /// <summary>The job at <paramref name="ranks"/> ranks run to its end without a fault.</summary>
    public Task<JobHistory> UninterruptedAsync(TestKitBase kit, int ranks)
    {
        if (!_uninterrupted.TryGetValue(ranks, out var run))
        {
            run = RunAsync(kit, Spec($"clean-{ranks}", ranks, []));
            _uninterrupted[ranks] = run;
        }
        return run;
    }

    /// <summary>The ring's job: a tiny mlp, a checkpoint at step 10, a failure's restart at once.</summary>
    public JobSpec Spec(string name, int ranks, string[] faults, TimeSpan? stepTimeout = null) => new()
    {
        Job = MlpJob.Name,
        WorkDir = _temp.Sub(name),
        JobOptions = new BuiltInJobOptions { Seed = 3, Samples = 240, BatchSize = 48 }, // 48 is shared by 3 and 4 ranks alike
        Ranks = ranks,
        Steps = 16,
        Schedule = new CheckpointSchedule(EveryIterations: 10),
        Faults = faults,
        Restarts = new RestartPolicy { BaseDelay = TimeSpan.Zero },
        StepTimeout = stepTimeout ?? TimeSpan.FromSeconds(30),
    };

    public async Task<JobHistory> RunAsync(TestKitBase kit, JobSpec spec)
    {
        var nodes = await StartedAsync(kit);
        return await _nodes.RunToEndAsync(kit, nodes[0], spec, TimeSpan.FromMinutes(2));
    }

    public void Dispose()
    {
        _nodes.Dispose();
        _temp.Dispose();
    }
}
