using Orchestrator.Trainer.Checkpointing;

namespace Orchestrator.Trainer.Tests.Checkpointing;

public sealed class NamingAndScheduleTests
{
    [Theory]
    [InlineData("iter_{n}", 120, 3, "iter_120")]
    [InlineData("epoch_{epoch}_iter_{n}", 120, 3, "epoch_3_iter_120")]
    [InlineData("run7_step{n}.ckpt", 5, 0, "run7_step5.ckpt")]
    public void Template_formats_and_parses_back_the_iteration(string template, long iteration, long epoch, string expected)
    {
        var naming = new CheckpointNaming(template);

        Assert.Equal(expected, naming.Format(iteration, epoch));
        Assert.True(naming.TryParse(expected, out var parsed));
        Assert.Equal(iteration, parsed);
    }

    [Fact]
    public void Names_of_another_template_are_not_checkpoints()
    {
        var naming = new CheckpointNaming("run7_step{n}.ckpt");

        Assert.False(naming.TryParse("iter_5", out _));
        Assert.False(naming.TryParse("run7_step5", out _));
        Assert.False(naming.TryParse("run7_stepX.ckpt", out _));
    }

    [Theory]
    [InlineData("iter_n")]
    [InlineData("a/{n}")]
    [InlineData(".hidden{n}")]
    public void Bad_templates_are_refused(string template) =>
        Assert.Throws<ArgumentException>(() => new CheckpointNaming(template));

    [Fact]
    public void Any_numbered_naming_orders_by_the_last_number()
    {
        Assert.True(CheckpointNaming.AnyNumbered.TryParse("epoch_3_iter_120", out var n));
        Assert.Equal(120, n);
        Assert.False(CheckpointNaming.AnyNumbered.TryParse(".tmp-iter_5", out _));
        Assert.False(CheckpointNaming.AnyNumbered.TryParse("notes", out _));
    }

    [Fact]
    public void Every_N_iterations()
    {
        var schedule = new CheckpointSchedule(EveryIterations: 50);

        Assert.True(schedule.IsDue(100, false, 0, TimeSpan.Zero));
        Assert.False(schedule.IsDue(101, false, 0, TimeSpan.Zero));
    }

    [Fact]
    public void Every_N_epochs_only_when_an_epoch_just_ended()
    {
        var schedule = new CheckpointSchedule(EveryEpochs: 2);

        Assert.True(schedule.IsDue(64, epochJustEnded: true, epoch: 2, TimeSpan.Zero));
        Assert.False(schedule.IsDue(32, epochJustEnded: true, epoch: 1, TimeSpan.Zero));
        Assert.False(schedule.IsDue(65, epochJustEnded: false, epoch: 2, TimeSpan.Zero));
    }

    [Fact]
    public void Every_T_seconds()
    {
        var schedule = new CheckpointSchedule(EverySeconds: 30);

        Assert.False(schedule.IsDue(1, false, 0, TimeSpan.FromSeconds(29)));
        Assert.True(schedule.IsDue(1, false, 0, TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public void Non_positive_intervals_are_refused() =>
        Assert.Throws<ArgumentException>(() => new CheckpointSchedule(EveryIterations: 0).Validate());
}
