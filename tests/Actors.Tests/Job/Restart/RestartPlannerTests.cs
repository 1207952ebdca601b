using Orchestrator.Actors.Job;
using Orchestrator.Actors.Job.Restart;

namespace Orchestrator.Actors.Tests.Job.Restart;

public sealed class RestartPlannerTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UnixEpoch.AddHours(1);
    private static readonly RestartPolicy Policy = new() { MaxRestarts = 2, Window = TimeSpan.FromMinutes(1), BaseDelay = TimeSpan.FromMilliseconds(100) };
    private static readonly RestartPoint At40 = new("ckpt-40", "/ckpt/ckpt-40", 40);

    [Fact]
    public void A_failure_right_after_a_checkpoint_recreates_only_the_failed_rank()
    {
        var plan = Assert.IsType<RestartPlan>(RestartPlanner.Plan(new RankFailure(2, "boom", 40), At40, 4, slotKept: true, Policy, [], Now));

        Assert.Equal(RestartMode.One, plan.Mode);
        Assert.Equal([2], plan.Recreate);
        Assert.Equal(0, plan.StepsRedone);
        Assert.Equal(TimeSpan.FromMilliseconds(100), plan.Delay);
    }

    [Fact]
    public void Steps_since_the_checkpoint_restart_every_rank_and_are_redone()
    {
        var plan = Assert.IsType<RestartPlan>(RestartPlanner.Plan(new RankFailure(1, "boom", 45), At40, 3, slotKept: true, Policy, [], Now));

        Assert.Equal(RestartMode.All, plan.Mode);
        Assert.Equal([0, 1, 2], plan.Recreate);
        Assert.Equal(40, plan.FromStep);
        Assert.Equal(5, plan.StepsRedone);
        Assert.Equal("/ckpt/ckpt-40", plan.From!.Path);
    }

    [Fact]
    public void A_rank_whose_device_is_gone_restarts_every_rank_even_right_after_a_checkpoint()
    {
        var plan = Assert.IsType<RestartPlan>(RestartPlanner.Plan(new RankFailure(0, "node left", 40), At40, 2, slotKept: false, Policy, [], Now));

        Assert.Equal(RestartMode.All, plan.Mode);
    }

    [Fact]
    public void Without_a_checkpoint_every_rank_restarts_from_the_start()
    {
        var plan = Assert.IsType<RestartPlan>(RestartPlanner.Plan(new RankFailure(0, "boom", 0), null, 2, slotKept: true, Policy, [], Now));

        Assert.Equal(RestartMode.All, plan.Mode);
        Assert.Null(plan.From);
        Assert.Contains("from the start", plan.Note);
    }

    [Fact]
    public void A_spent_budget_gives_up_naming_the_last_good_checkpoint()
    {
        var decision = RestartPlanner.Plan(new RankFailure(1, "boom", 45), At40, 2, slotKept: true, Policy, [Now.AddSeconds(-20), Now.AddSeconds(-10)], Now);

        var giveUp = Assert.IsType<GiveUp>(decision);
        Assert.Equal("ckpt-40", giveUp.LastGoodCheckpoint);
        Assert.Equal("rank 1 failed at step 46: boom; restart limit reached (2 in 1 min); last good checkpoint: ckpt-40", giveUp.Message);
    }

    [Fact]
    public void The_journal_spells_the_modes_as_before()
    {
        Assert.Equal("all", RestartMode.All.ToText());
        Assert.Equal("one", RestartMode.One.ToText());
        Assert.Equal(RestartMode.All, RestartModes.Parse("all"));
        Assert.Equal(RestartMode.One, RestartModes.Parse("one"));
    }
}
