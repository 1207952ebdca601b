using Orchestrator.Actors.Job.Checkpoints;
using Orchestrator.Actors.Job.Steps;
using Orchestrator.Trainer.Checkpointing;

namespace Orchestrator.Actors.Tests.Job.Steps;

public sealed class StepPlanTests
{
    private static readonly CheckpointSchedule Every10 = new(EveryIterations: 10);

    private static StepSituation At(bool stop = false, bool resize = false, bool requested = false, CheckpointSchedule? schedule = null) =>
        new(100, schedule ?? Every10, stop, resize, requested, TimeSpan.Zero);

    [Fact]
    public void A_plain_step_end_starts_the_next_step()
    {
        Assert.IsType<StepEnd.NextStep>(StepPlan.AtStepEnd(7, false, 0, At()));
    }

    [Fact]
    public void The_last_step_saves_a_final_checkpoint_or_only_checks_replicas_without_save_last()
    {
        Assert.Equal(new StepEnd.Checkpoint(SaveReason.Final), StepPlan.AtStepEnd(100, false, 0, At()));
        Assert.Equal(new StepEnd.Checkpoint(null), StepPlan.AtStepEnd(100, false, 0, At(schedule: Every10 with { SaveLast = false })));
    }

    [Fact]
    public void A_stop_on_a_scheduled_step_saves_once_as_an_interrupt()
    {
        Assert.Equal(new StepEnd.Checkpoint(SaveReason.Interrupt), StepPlan.AtStepEnd(10, false, 0, At(stop: true)));
    }

    [Fact]
    public void A_pending_resize_turns_a_due_or_requested_save_into_a_resize()
    {
        Assert.Equal(new StepEnd.Checkpoint(SaveReason.Schedule), StepPlan.AtStepEnd(10, false, 0, At()));
        Assert.Equal(new StepEnd.Checkpoint(SaveReason.Resize), StepPlan.AtStepEnd(10, false, 0, At(resize: true)));
        Assert.Equal(new StepEnd.Checkpoint(SaveReason.Requested), StepPlan.AtStepEnd(7, false, 0, At(requested: true)));
        Assert.Equal(new StepEnd.Checkpoint(SaveReason.Resize), StepPlan.AtStepEnd(7, false, 0, At(resize: true, requested: true)));
    }

    [Fact]
    public void Before_a_step_a_stop_interrupts_and_a_drain_resizes_at_once()
    {
        Assert.Equal(SaveReason.Interrupt, StepPlan.BeforeStep(stopRequested: true, drainPending: true));
        Assert.Equal(SaveReason.Resize, StepPlan.BeforeStep(stopRequested: false, drainPending: true));
        Assert.Null(StepPlan.BeforeStep(stopRequested: false, drainPending: false));
    }

    [Fact]
    public void The_next_step_starts_on_the_average_only_when_nothing_is_decided_at_the_end()
    {
        Assert.False(StepPlan.DecidedAtEnd(7, At(), faultDueNext: false));
        Assert.True(StepPlan.DecidedAtEnd(10, At(), faultDueNext: false)); // a scheduled save
        Assert.True(StepPlan.DecidedAtEnd(7, At(stop: true), faultDueNext: false));
        Assert.True(StepPlan.DecidedAtEnd(7, At(), faultDueNext: true));
        Assert.True(StepPlan.DecidedAtEnd(7, At(schedule: new CheckpointSchedule(EveryEpochs: 1)), faultDueNext: false));
    }

    [Fact]
    public void A_run_ahead_window_ends_at_the_next_checkpoint_fault_or_the_last_step()
    {
        var fast = TimeSpan.FromMilliseconds(1);
        Assert.Equal(10, StepPlan.RunAheadTo(3, 100, Every10, fast, nextFault: null));
        Assert.Equal(6, StepPlan.RunAheadTo(3, 100, Every10, fast, nextFault: 7));
        Assert.Equal(5, StepPlan.RunAheadTo(3, 5, Every10, fast, nextFault: null));
        Assert.Equal(3, StepPlan.RunAheadTo(3, 100, Every10, TimeSpan.Zero, nextFault: null)); // no duration measured yet
        Assert.Equal(3, StepPlan.RunAheadTo(3, 100, Every10, TimeSpan.FromSeconds(1), nextFault: null)); // slow steps: one at a time
        Assert.Equal(66, StepPlan.RunAheadTo(3, 1000, new CheckpointSchedule(EveryIterations: 1000), TimeSpan.FromMicroseconds(10), nextFault: null)); // at most 64
    }
}
