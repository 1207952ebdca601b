using Akka.Actor;
using Orchestrator.Actors.Job;
using Orchestrator.Actors.Job.Checkpoints;
using Orchestrator.Actors.Tests.Support;
using Orchestrator.Trainer.Checkpointing;

namespace Orchestrator.Actors.Tests.Job.Protocol;

/// <summary>
/// Runs a real <see cref="JobSupervisor"/> (SQLite journal in a temp dir, local placement unless a test
/// names one) against ranks the test plays by hand. Only messages cross: the tests pin what the supervisor
/// decides, as its ranks, its reporter and its journal see it, never how it is built inside. The stand-ins
/// play the hub's protocol (gradients to the supervisor, averages back), which ranks in one process use where
/// the collective is set to the hub; by default they average among themselves (SharedAllReduceTests, and every
/// test of real ranks).
/// </summary>
public abstract class SupervisorProtocolKit() : JobTestKit(new TempDirectory(), "orchestrator.cluster.gradient-collective = hub")
{
    /// <summary>
    /// A job of <paramref name="ranks"/> ranks that saves at every epoch end a rank reports (so a test decides
    /// where checkpoints fall by the StepApplied it sends) and at its last step. Restarts wait 10 ms.
    /// </summary>
    protected JobSpec ScriptedSpec(string name, int ranks = 2, long steps = 4, RestartPolicy? restarts = null, TimeSpan? stepTimeout = null) => new()
    {
        Job = "scripted",
        WorkDir = Temp.Sub(name),
        Ranks = ranks,
        Steps = steps,
        Schedule = new CheckpointSchedule(EveryEpochs: 1),
        StepTimeout = stepTimeout ?? TimeSpan.FromSeconds(30),
        Restarts = restarts ?? new RestartPolicy { BaseDelay = TimeSpan.FromMilliseconds(10) },
    };

    /// <summary>Creates the supervisor with rank stand-ins and tells it to run.</summary>
    protected ScriptedJob Run(JobSpec spec, RankPlacement? placement = null, DiscoveryRunner? discovery = null)
    {
        var ranks = new ProbeRanks(this, spec.MaxRanks ?? spec.Ranks);
        var reporter = CreateTestProbe("reporter");
        var requester = CreateTestProbe("requester");
        var supervisor = Sys.ActorOf(JobSupervisor.Props(spec, reporter.Ref, placement, ranks.Props, discovery), "supervisor");
        supervisor.Tell(RunJob.Instance, requester.Ref);
        return new ScriptedJob(spec, supervisor, ranks, reporter, requester);
    }

    /// <summary>The journal's events of the job, read back by a fresh reader.</summary>
    protected async Task<IReadOnlyList<JobEvent>> EventsAsync(JobSpec spec) => (await HistoryAsync(spec)).Events;

    /// <summary>Watches <paramref name="ranks"/> (the actors now behind the given probes' last messages) and returns them.</summary>
    protected IActorRef[] WatchRanks(ScriptedJob job, params int[] ranks) =>
        ranks.Select(rank => Watch(job.Ranks[rank].LastSender)).ToArray();

    /// <summary>Every one of <paramref name="actors"/> (watched) stops, in any order.</summary>
    protected async Task ExpectStoppedAsync(IReadOnlyCollection<IActorRef> actors)
    {
        var stopped = new HashSet<IActorRef>();
        while (stopped.Count < actors.Count)
        {
            stopped.Add((await ExpectMsgAsync<Terminated>(ScriptedJob.Wait)).ActorRef);
        }
        Assert.Equal(actors.ToHashSet(), stopped);
    }

    /// <summary>A restart's mode as the journal names it ("one" or "all").</summary>
    protected static string ModeOf(RestartScheduled restart) => restart.Mode.ToString()!.ToLowerInvariant();
}
