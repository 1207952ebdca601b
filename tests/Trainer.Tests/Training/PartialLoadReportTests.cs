using Orchestrator.Trainer.Checkpointing;
using Orchestrator.Trainer.Jobs;
using Orchestrator.Trainer.Tests.Support;
using Orchestrator.Trainer.Training;

namespace Orchestrator.Trainer.Tests.Training;

/// <summary>What a checkpoint lacks, or holds that the job does not use, reaches the user as notes.</summary>
public sealed class PartialLoadReportTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void A_resume_tells_which_saved_components_the_job_does_not_use_and_which_it_lacks()
    {
        TrainingRun.Execute(() => WithExtra("notes"), Runs.Options(_temp.Path, steps: 4));
        var observer = new RecordingObserver();

        TrainingRun.Execute(() => WithExtra("history"), Runs.Options(_temp.Path, steps: 6), observer);

        Assert.Contains(observer.Notes, n => n.Contains("holds notes, which this job does not use", StringComparison.Ordinal));
        Assert.Contains(observer.Notes, n => n.Contains("lacks history; those start fresh", StringComparison.Ordinal));
    }

    [Fact]
    public void Components_left_out_on_request_are_not_reported_as_unused()
    {
        Runs.Execute(Runs.Options(_temp.Path, steps: 4));
        var observer = new RecordingObserver();

        TrainingRun.Execute(Runs.Job(), Runs.Options(_temp.Path, steps: 6) with { SkipOptimizerState = true }, observer);

        Assert.DoesNotContain(observer.Notes, n => n.Contains("does not use", StringComparison.Ordinal));
    }

    [Fact]
    public void The_report_describes_itself_in_lines_and_says_nothing_when_complete()
    {
        var partial = new RestoreReport(["model"], ["optimizer", "extra"], ["history"], ["skipped key w"]) { LeftOut = ["optimizer"] };
        var complete = new RestoreReport(["model"], [], [], []);

        Assert.Equal(
            ["skipped key w", "checkpoint iter_4 lacks history; those start fresh", "checkpoint iter_4 holds extra, which this job does not use; left unloaded"],
            partial.Describe("iter_4"));
        Assert.Empty(complete.Describe("iter_4"));
    }

    private static TrainingJob WithExtra(string name)
    {
        var value = 1;
        return FullJobs.With(Runs.Job()(), extra: new Dictionary<string, ICheckpointable>
        {
            [name] = new JsonCheckpointable<int>(() => value, v => value = v),
        });
    }
}
