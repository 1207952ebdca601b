using Orchestrator.Trainer.Checkpointing;
using Orchestrator.Trainer.Jobs;
using Orchestrator.Trainer.Training;

namespace Orchestrator.Trainer.Tests.Jobs;

/// <summary>Each built-in job refuses settings outside its range before it makes a tensor.</summary>
public sealed class BuiltInJobRangesTests
{
    [Theory]
    [InlineData(0, null, null, null, "--width 0 is out of range for job mlp: give 1 to 16384")]
    [InlineData(100_000, null, null, null, "--width 100000 is out of range for job mlp: give 1 to 16384")]
    [InlineData(null, 0, null, null, "--samples 0 is out of range for job mlp: give 1 to 1000000")]
    [InlineData(null, 10, null, null, "--batch-size 64 is more than the 10 example(s) of job mlp's 10 samples; give a smaller --batch-size or more --samples")]
    [InlineData(null, null, 100_000, null, "--batch-size 100000 is out of range for job mlp: give 1 to 65536")]
    [InlineData(null, null, null, double.NaN, "--lr NaN is out of range for job mlp: give a number above 0 and at most 10")]
    [InlineData(null, null, null, -0.5, "--lr -0.5 is out of range for job mlp: give a number above 0 and at most 10")]
    public void Mlp_refuses_settings_out_of_range(int? width, int? samples, int? batch, double? rate, string message) =>
        Assert.Equal(message, Assert.Throws<ArgumentException>(() => MlpJob.Create(new BuiltInJobOptions { Width = width, Samples = samples, BatchSize = batch, LearningRate = rate })).Message);

    [Fact]
    public void Charlm_needs_more_samples_than_its_context() =>
        Assert.Equal("--samples 16 is out of range for job charlm: give 17 to 1000000",
            Assert.Throws<ArgumentException>(() => CharLmJob.Create(new BuiltInJobOptions { Samples = 16 })).Message);

    [Fact]
    public void Cnn_width_is_bounded() =>
        Assert.Equal("--width 1025 is out of range for job cnn: give 1 to 1024",
            Assert.Throws<ArgumentException>(() => CnnJob.Create(new BuiltInJobOptions { Width = 1025 })).Message);

    [Fact]
    public void Settings_at_the_bounds_pass_the_check()
    {
        var options = new BuiltInJobOptions { Width = 16_384, Samples = 64, BatchSize = 64, LearningRate = 10 };

        Assert.Same(options, MlpJob.Ranges.Check(options, 4096, 64));
    }

    [Fact]
    public void Threads_beyond_the_bound_are_refused_by_the_run_options_too() =>
        Assert.Equal("--threads 1025 is out of range: give 1 to 1024",
            Assert.Throws<ArgumentException>(() => RunOptionsValidator.Validate(new RunOptions { WorkDir = "/tmp/x", Steps = 1, Threads = 1025 })).Message);

    [Theory]
    [InlineData("iter_{step}_{n}", "has a brace that is not {n} (the iteration) or {epoch}")]
    [InlineData("iter\n{n}", "'iter?{n}' must be a plain folder name")]
    public void A_name_template_that_would_make_bad_folder_names_is_refused(string template, string message) =>
        Assert.Contains(message, Assert.Throws<ArgumentException>(() => new CheckpointNaming(template)).Message);

    [Fact]
    public void A_name_template_is_taken_up_to_200_bytes_at_the_largest_numbers()
    {
        Assert.Equal(200, System.Text.Encoding.UTF8.GetByteCount(new CheckpointNaming("{n}_" + new string('a', 180)).Format(long.MaxValue, 0)));
        Assert.Contains("makes names of up to 201 bytes; keep it to 200", Assert.Throws<ArgumentException>(() => new CheckpointNaming("{n}_" + new string('a', 181))).Message);
    }
}
