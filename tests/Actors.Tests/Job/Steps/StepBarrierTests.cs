using Orchestrator.Actors.Job.Steps;

namespace Orchestrator.Actors.Tests.Job.Steps;

public sealed class StepBarrierTests
{
    [Fact]
    public void The_round_is_complete_when_the_last_rank_answers()
    {
        var barrier = StepBarrier.Of(3);

        Assert.False(barrier.Arrive(2));
        Assert.False(barrier.Arrive(0));
        Assert.True(barrier.Arrive(1));
        Assert.False(barrier.IsWaiting);
    }

    [Fact]
    public void In_a_step_the_hung_rank_is_the_one_that_sent_no_gradients_not_a_peer_waiting_for_it()
    {
        var barrier = StepBarrier.ForStep(3);
        barrier.GradientsFrom(0);
        barrier.GradientsFrom(2);

        Assert.Equal(1, barrier.HungRank());
    }

    [Fact]
    public void Outside_a_step_the_hung_rank_is_the_lowest_that_did_not_answer()
    {
        var barrier = StepBarrier.Of(3);
        barrier.Arrive(0);

        Assert.Equal(1, barrier.HungRank());
    }

    [Fact]
    public void No_round_waits_for_nobody()
    {
        Assert.False(StepBarrier.None.IsWaiting);
    }
}
