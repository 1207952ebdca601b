using Orchestrator.Trainer.Jobs;
using Orchestrator.Trainer.Jobs.Loading;

namespace Orchestrator.Trainer.Tests.Jobs;

public sealed class JobArgsTests
{
    private enum Mode
    {
        Fast,
        Exact,
    }

    private static JobArgs Of(params (string Key, string Value)[] pairs) => new(pairs.ToDictionary(p => p.Key, p => p.Value));

    [Fact]
    public void Typed_getters_read_given_values_and_defaults()
    {
        var args = Of(("width", "16"), ("lr", "3e-4"), ("steps", "9000000000"), ("shuffle", "false"), ("mode", "exact"), ("name", "tiny"));

        Assert.Equal(16, args.Int("width", 8));
        Assert.Equal(3e-4, args.Double("lr", 1));
        Assert.Equal(9_000_000_000L, args.Long("steps", 0));
        Assert.False(args.Bool("shuffle", true));
        Assert.Equal(Mode.Exact, args.Enum("mode", Mode.Fast));
        Assert.Equal("tiny", args.String("name", "x"));
        Assert.Equal(7, args.Int("depth", 7));
        Assert.Null(args.OptionalInt("heads"));
    }

    [Theory]
    [InlineData("width", "wide", "job argument width='wide' is not a whole number")]
    [InlineData("lr", "fast", "job argument lr='fast' is not a number")]
    [InlineData("lr", "NaN", "job argument lr='NaN' is not a number")]
    [InlineData("shuffle", "yes", "job argument shuffle='yes' is not true or false")]
    [InlineData("mode", "quick", "job argument mode='quick' is not one of fast, exact")]
    public void A_bad_value_is_reported_by_its_key(string key, string value, string message)
    {
        var args = Of((key, value));

        var error = Assert.Throws<JobArgumentException>(() =>
        {
            _ = args.Int("width", 0);
            _ = args.Double("lr", 0);
            _ = args.Bool("shuffle", true);
            _ = args.Enum("mode", Mode.Fast);
        });

        Assert.Equal(key, error.Key);
        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void A_required_argument_that_is_missing_says_how_to_give_it() =>
        Assert.Equal("job argument 'data' is required (--job-arg data=VALUE)", Assert.Throws<JobArgumentException>(() => JobArgs.Empty.RequiredString("data")).Message);

    [Fact]
    public void Keys_never_read_are_the_unknown_ones()
    {
        var args = Of(("width", "4"), ("widht", "5"), ("depth", "2"));

        _ = args.Int("width", 8);
        _ = args.OptionalInt("depth");
        _ = args.Int("heads", 2);

        Assert.Equal(["widht"], args.Unread);
        Assert.Equal(["depth", "heads", "width"], args.KeysRead);
    }

    [Fact]
    public void The_job_settings_of_the_flags_join_the_job_arguments_and_may_not_disagree()
    {
        var options = new BuiltInJobOptions { BatchSize = 32, LearningRate = 0.002 };

        var merged = JobFactory.Arguments(options, new Dictionary<string, string> { ["width"] = "4", ["batchSize"] = "32" });
        Assert.Equal(["batchSize", "learningRate", "width"], merged.Keys);
        Assert.Equal(0.002, merged.Double("learningRate", 0));

        var clash = Assert.Throws<JobArgumentException>(() => JobFactory.Arguments(options, new Dictionary<string, string> { ["batchSize"] = "64" }));
        Assert.Equal("job argument batchSize is given twice (32 by its flag, 64 by --job-arg); give it once", clash.Message);
    }
}
