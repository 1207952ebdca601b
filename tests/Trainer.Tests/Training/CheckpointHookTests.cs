using Orchestrator.Trainer.Checkpointing;
using Orchestrator.Trainer.Jobs;
using Orchestrator.Trainer.Tests.Support;
using Orchestrator.Trainer.Training;

namespace Orchestrator.Trainer.Tests.Training;

/// <summary>The job's hooks around checkpoints and its save-now request, through a whole run.</summary>
public sealed class CheckpointHookTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void A_save_requested_by_the_job_is_written_at_the_next_step_boundary_after_the_before_save_hook()
    {
        var hookedAt = new List<long>();
        var observer = new RecordingObserver();
        TrainingJob? job = null;
        var losses = 0;
        TrainingRun.Execute(() =>
        {
            var plain = Runs.Job()();
            // The loss of step 7 asks: the request is taken once that step is applied.
            job = FullJobs.With(plain, beforeSave: c => hookedAt.Add(c.Iteration), loss: batch =>
            {
                if (++losses == 7)
                {
                    job!.RequestSave();
                }
                return plain.Loss(batch);
            });
            return job;
        }, Runs.Options(_temp.Path, steps: 12, every: 100), observer);

        Assert.Equal([(7L, "requested"), (12L, "final")], observer.Saves.Select(s => (s.Iteration, s.Reason)));
        Assert.Equal([7L, 12L], hookedAt);
    }

    [Fact]
    public void The_after_load_hook_sees_what_a_resume_restored()
    {
        Runs.Execute(Runs.Options(_temp.Path, steps: 5));
        RestoreReport? seen = null;

        TrainingRun.Execute(() => FullJobs.With(Runs.Job()(), afterLoad: r => seen = r), Runs.Options(_temp.Path, steps: 8));

        Assert.NotNull(seen);
        Assert.Contains(ModelCheckpointable.ComponentName, seen.Restored);
        Assert.Contains(ComponentNames.Optimizer, seen.Restored);
        Assert.Empty(seen.Missing);
    }
}
