using Orchestrator.Actors.Hosting;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using Orchestrator.Actors.Job;
using Orchestrator.Actors.Persistence;
using Orchestrator.Trainer.Checkpointing;
using Orchestrator.Trainer.Jobs;

namespace Orchestrator.Actors.Tests.Support;

/// <summary>An actor system whose journal is a SQLite file in a fresh folder, and helpers to run jobs in it.</summary>
public abstract class JobTestKit : TestKit
{
    protected static readonly TimeSpan JobLimit = TimeSpan.FromMinutes(3);

    protected JobTestKit(TempDirectory temp, string extraConfig = "")
        : base(JournalJson.With(BootstrapSetup.Create().WithConfig(Akka.Configuration.ConfigurationFactory.ParseString(extraConfig)
            .WithFallback(JournalSettings.SqliteIn(temp.Path).ToConfig()).WithFallback(OrchestratorSystem.Reference))))
    {
        Temp = temp;
    }

    protected TempDirectory Temp { get; }

    protected JobSpec Spec(string name, string job = CnnJob.Name, int ranks = 2, long steps = 40, long every = 10, params string[] faults) => new()
    {
        Job = job,
        WorkDir = Temp.Sub(name),
        JobOptions = new BuiltInJobOptions { Seed = 5, Samples = 512 },
        Ranks = ranks,
        Steps = steps,
        Threads = 1,
        Schedule = new CheckpointSchedule(EveryIterations: every),
        Faults = faults,
        StepTimeout = TimeSpan.FromSeconds(2),
        Restarts = new RestartPolicy { BaseDelay = TimeSpan.FromMilliseconds(20) },
    };

    protected async Task<JobFinished> RunAsync(JobSpec spec, IActorRef? reporter = null)
    {
        var supervisor = Sys.ActorOf(JobSupervisor.Props(spec, reporter ?? CreateTestProbe().Ref));
        supervisor.Tell(RunJob.Instance, TestActor);
        return await ExpectMsgAsync<JobFinished>(JobLimit);
    }

    protected async Task<JobHistory> HistoryAsync(JobSpec spec)
    {
        var reader = Sys.ActorOf(JobHistoryReader.Props(JobSupervisor.PersistenceIdFor(spec.WorkDir)));
        reader.Tell(ReadHistory.Instance, TestActor);
        return await ExpectMsgAsync<JobHistory>(TimeSpan.FromSeconds(30));
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            Temp.Dispose();
        }
    }
}
