using Orchestrator.Actors.Job;

namespace Orchestrator.Actors.Tests.Job;

public sealed class RestartPolicyTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UnixEpoch.AddHours(1);
    private readonly RestartPolicy _policy = new() { MaxRestarts = 3, Window = TimeSpan.FromMinutes(1), BaseDelay = TimeSpan.FromMilliseconds(100), MaxDelay = TimeSpan.FromMilliseconds(300) };

    [Fact]
    public void Delay_doubles_with_each_restart_in_the_window_up_to_the_cap()
    {
        Assert.Equal(TimeSpan.FromMilliseconds(100), _policy.NextDelay([], Now));
        Assert.Equal(TimeSpan.FromMilliseconds(200), _policy.NextDelay([Now.AddSeconds(-5)], Now));
        Assert.Equal(TimeSpan.FromMilliseconds(300), _policy.NextDelay([Now.AddSeconds(-5), Now.AddSeconds(-4)], Now));
    }

    [Fact]
    public void Past_the_budget_in_the_window_there_is_no_restart()
    {
        Assert.Null(_policy.NextDelay([Now.AddSeconds(-30), Now.AddSeconds(-20), Now.AddSeconds(-10)], Now));
    }

    [Fact]
    public void Restarts_that_left_the_window_no_longer_count()
    {
        Assert.Equal(TimeSpan.FromMilliseconds(100), _policy.NextDelay([Now.AddMinutes(-5), Now.AddMinutes(-3), Now.AddMinutes(-2)], Now));
    }
}
