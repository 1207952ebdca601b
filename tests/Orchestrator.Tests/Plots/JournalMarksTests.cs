using Orchestrator.Actors.Job;
using Orchestrator.Cli.Plots;

namespace Orchestrator.Tests.Plots;

/// <summary>How journal events become marks on the step axis, on journals written by hand.</summary>
public sealed class JournalMarksTests
{
    private static readonly DateTimeOffset At = DateTimeOffset.UnixEpoch;
    private static readonly JobSubmitted Submitted = new(new JobSpec { Job = "mlp", WorkDir = "/w", Ranks = 2, Steps = 100 }, At);

    [Fact]
    public void A_rank_crash_is_one_failure_and_one_resume_spanning_the_redone_steps()
    {
        var marks = JournalMarks.Read(
        [
            Submitted, Started(1, null, 0), Checkpoint(20), Fault("crash@step=27,rank=1"),
            new RankFailed(1, 1, 27, "injected crash on rank 1 at step 27", At),
            new RestartScheduled(2, "all", 1, "iter_20", 20, 6, 200, At), Started(2, "iter_20", 20), Checkpoint(40), Completed(40),
        ]);

        Assert.Equal([new FailureMark(27, FailureKind.RankFailed, "rank 1 failed")], marks.Failures);
        Assert.Equal([new ResumeSpan(20, 27, 6, "iter_20")], marks.Resumes);
        Assert.Equal([20L, 40L], marks.Checkpoints.Select(c => c.Step));
    }

    [Fact]
    public void A_killed_process_is_a_failure_at_the_fault_step_and_its_rerun_a_resume()
    {
        var marks = JournalMarks.Read(
        [
            Submitted, Started(1, null, 0), Checkpoint(20), Fault("kill-process@step=35,rank=0"),
            Started(2, "iter_20", 20), Checkpoint(40), Completed(40),
        ]);

        Assert.Equal([new FailureMark(35, FailureKind.ProcessKilled, "process killed")], marks.Failures);
        Assert.Equal([new ResumeSpan(20, 35, 14, "iter_20")], marks.Resumes);
    }

    [Fact]
    public void A_process_that_ended_silently_is_a_failure_after_the_last_step_the_journal_knew()
    {
        var marks = JournalMarks.Read(
        [
            Submitted, Started(1, null, 0), Checkpoint(20), Checkpoint(30),
            new JobExtended(60, null, At), Started(2, "iter_30", 30), Checkpoint(60), Completed(60),
        ]);

        Assert.Equal([new FailureMark(31, FailureKind.ProcessEnded, "process ended")], marks.Failures);
        Assert.Equal([new ResumeSpan(30, 31, 0, "iter_30")], marks.Resumes);
    }

    [Fact]
    public void Stops_reruns_and_resizes_are_not_failures_and_a_checkpoint_recorded_twice_counts_once()
    {
        var marks = JournalMarks.Read(
        [
            Submitted, Started(1, null, 0), Checkpoint(20), new JobStopped(20, "iter_20", At),
            Started(2, "iter_20", 20), Checkpoint(20), Checkpoint(40), new WorldResized(2, 3, "iter_40", 40, "a node joined", At),
            Started(3, "iter_40", 40), Completed(60), new JobExtended(80, null, At), Started(4, "iter_60", 60), Completed(80),
        ]);

        Assert.Empty(marks.Failures);
        Assert.Empty(marks.Resumes);
        Assert.Equal([new ResizeMark(40, 2, 3)], marks.Resizes);
        Assert.Equal([20L, 40L], marks.Checkpoints.Select(c => c.Step));
    }

    [Fact]
    public void The_summary_line_counts_what_the_model_holds()
    {
        var journal = new JobEvent[]
        {
            Submitted, Started(1, null, 0), Checkpoint(10), new RankFailed(1, 0, 15, "hung", At),
            new RestartScheduled(2, "all", 0, "iter_10", 10, 4, 200, At), Started(2, "iter_10", 10), Fault("kill-process@step=18,rank=0"),
            Started(3, "iter_10", 10), Checkpoint(20), Completed(20),
        };
        var steps = Enumerable.Range(1, 20).Select(i => new StepValue(i, 1.0 / i)).ToList();

        var plot = TrainingPlot.Build(journal, steps, steps);

        Assert.Equal("plotted 20 steps, 2 checkpoints, 2 failures, 2 resumes (11 steps redone) -> out.png", plot.Summary("out.png"));
        Assert.Equal(("mlp, 2 ranks", "completed at step 20"), (plot.Job, plot.Outcome));
    }

    private static RanksStarted Started(int generation, string? from, long step) => new(generation, 2, from, step, At);

    private static CheckpointCommitted Checkpoint(long step) => new(step, $"iter_{step}", $"/w/checkpoints/iter_{step}", "digest", 0.5, "schedule", At);

    private static FaultFired Fault(string id) => new(id, At);

    private static JobCompleted Completed(long step) => new(step, "digest", At);
}
