using Orchestrator.Actors.Job;

namespace Orchestrator.Actors.Tests.Job;

public sealed class WorldSizingTests
{
    [Theory]
    [InlineData(4, 4)]
    [InlineData(10, 4)] // more devices than --max-ranks: the extra ones stay idle
    [InlineData(3, 2)] // 3 does not divide 64: one device stays idle rather than change the global batch
    [InlineData(1, 1)]
    public void Size_is_the_largest_that_fits_the_devices_and_the_maximum_and_divides_the_batch(int available, int expected)
    {
        Assert.Equal(expected, new WorldSizing(MinRanks: 1, MaxRanks: 4, GlobalBatch: 64).SizeFor(available));
    }

    [Fact]
    public void Sizes_that_do_not_divide_the_batch_are_skipped_down_to_the_minimum()
    {
        var sizing = new WorldSizing(MinRanks: 2, MaxRanks: 8, GlobalBatch: 60);

        Assert.Equal(6, sizing.SizeFor(8)); // 8 and 7 do not divide 60
        Assert.Equal(5, sizing.SizeFor(5));
        Assert.Equal(2, sizing.SizeFor(2));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    public void Below_the_minimum_the_job_waits_and_says_how_many_it_needs(int available)
    {
        var sizing = new WorldSizing(MinRanks: 3, MaxRanks: 4, GlobalBatch: 64);

        Assert.Null(sizing.SizeFor(available));
        Assert.Equal($"waiting for ranks: {available} device(s) available, the job needs at least 3 (--min-ranks)", sizing.WhyNot(available));
    }

    [Fact]
    public void With_enough_devices_but_no_dividing_size_the_job_waits_and_names_the_batch()
    {
        var sizing = new WorldSizing(MinRanks: 5, MaxRanks: 7, GlobalBatch: 64);

        Assert.Null(sizing.SizeFor(9));
        Assert.Equal("waiting for ranks: no world size between 5 and 7 divides the global batch of 64", sizing.WhyNot(9));
        Assert.Null(sizing.SizeFor(5));
        Assert.Equal("waiting for ranks: no world size between 5 and 5 divides the global batch of 64", sizing.WhyNot(5));
    }
}
