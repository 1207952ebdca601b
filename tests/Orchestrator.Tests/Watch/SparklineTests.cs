using Orchestrator.Cli.Terminal.Watch;

namespace Orchestrator.Tests.Watch;

public sealed class SparklineTests
{
    [Fact]
    public void A_falling_series_goes_from_the_highest_block_to_the_lowest() =>
        Assert.Equal("█▆▅▃▁", Sparkline.Of([1.0, 0.75, 0.5, 0.35, 0.0], 10));

    [Fact]
    public void A_series_longer_than_the_width_is_averaged_in_equal_runs() =>
        Assert.Equal("█▄▁", Sparkline.Of([1.0, 0.8, 0.5, 0.5, 0.3, 0.1], 3));

    [Fact]
    public void A_diverged_step_inside_a_run_is_left_out_of_its_average() =>
        Assert.Equal("█▁", Sparkline.Of([1.0, double.PositiveInfinity, 0.2, 0.2], 2));

    [Fact]
    public void A_flat_series_is_drawn_at_mid_height() =>
        Assert.Equal("▄▄▄", Sparkline.Of([0.25, 0.25, 0.25], 8));

    [Fact]
    public void A_diverged_step_is_marked_and_left_out_of_the_scale() =>
        Assert.Equal("▁×█", Sparkline.Of([0.1, double.NaN, 0.2], 8));

    [Fact]
    public void Nothing_to_draw_is_an_empty_line()
    {
        Assert.Equal("", Sparkline.Of([], 8));
        Assert.Equal("", Sparkline.Of([1.0, 2.0], 0));
    }
}
