using Orchestrator.Actors.Configuration;
using Orchestrator.Cli.Commands;
using Orchestrator.Tests.Support;

namespace Orchestrator.Tests.Cli;

/// <summary>
/// TrainSpecBuilder checks every number as given, flag or config file, before it becomes a duration or a
/// count; and a HOCON config reads its includes and refuses what Akka's parser would silently accept.
/// </summary>
public sealed class TrainSpecBoundsTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    private Orchestrator.Actors.Job.JobSpec Build(TrainConfigFile config, params string[] flags) =>
        TrainSpecBuilder.Build(
            ParsedArguments.Parse("train", ["--job", "mlp", "--work-dir", _temp.Sub("run"), .. flags], TrainCommand.ValueOptions, TrainCommand.Switches, TrainCommand.Repeatable),
            config);

    [Theory]
    [InlineData("--step-timeout", "1e300", "--step-timeout 1E+300 is out of range: give a number above 0 and at most 604800 seconds")]
    [InlineData("--step-timeout", "0", "--step-timeout 0 is out of range: give a number above 0 and at most 604800 seconds")]
    [InlineData("--restart-window", "-5", "--restart-window -5 is out of range: give a number above 0 and at most 604800 seconds")]
    [InlineData("--restart-backoff", "NaN", "--restart-backoff NaN is out of range: give a number from 0 to 3600000 milliseconds")]
    [InlineData("--checkpoint-every-seconds", "Infinity", "--checkpoint-every-seconds Infinity is out of range: give a number above 0 and at most 604800 seconds")]
    [InlineData("--max-restarts", "1001", "--max-restarts 1001 is out of range: give a whole number from 0 to 1000")]
    [InlineData("--threads", "1025", "--threads 1025 is out of range: give a whole number from 1 to 1024")]
    [InlineData("--metrics-port", "65536", "--metrics-port 65536 is out of range: give a whole number from 1 to 65535")]
    [InlineData("--lr", "-1", "--lr -1 is out of range: give a number above 0 and at most 1000")]
    [InlineData("--samples", "0", "--samples 0 is out of range: give a whole number from 1 to 2147483647")]
    [InlineData("--ignore-keys", "[", "--ignore-keys '[' is not a valid regular expression (Invalid pattern '[' at offset 1. Unterminated [] set)")]
    [InlineData("--resume", " ", "--resume is empty; give a path")]
    public void A_flag_out_of_range_is_refused_naming_it(string flag, string value, string message) =>
        Assert.Equal(message, Assert.Throws<UsageException>(() => Build(new TrainConfigFile(), flag, value)).Message);

    [Fact]
    public void A_config_value_out_of_range_is_refused_like_the_flag() =>
        Assert.Equal("--step-timeout NaN is out of range: give a number above 0 and at most 604800 seconds",
            Assert.Throws<UsageException>(() => Build(new TrainConfigFile { StepTimeout = double.NaN })).Message);

    [Fact]
    public void Values_at_the_bounds_are_taken()
    {
        var spec = Build(new TrainConfigFile(), "--threads", "1024", "--step-timeout", "604800", "--restart-backoff", "0", "--keep", "0", "--seed", "0");

        Assert.Equal(1024, spec.Threads);
        Assert.Equal(TimeSpan.FromDays(7), spec.StepTimeout);
        Assert.Equal(TimeSpan.Zero, spec.Restarts.BaseDelay);
    }

    [Fact]
    public void A_work_dir_that_is_a_file_is_refused_and_nothing_is_made()
    {
        var file = _temp.Sub("file");
        File.WriteAllText(file, "");

        Assert.Equal($"--work-dir {file}/run: {file} is a file, not a folder; give a path under a folder",
            Assert.Throws<UsageException>(() => TrainSpecBuilder.BuildToRunHere(
                ParsedArguments.Parse("train", ["--job", "mlp", "--work-dir", file + "/run"], TrainCommand.ValueOptions, TrainCommand.Switches, TrainCommand.Repeatable),
                new TrainConfigFile())).Message);
    }

    [Fact]
    public void A_HOCON_include_is_read_from_the_config_folder()
    {
        File.WriteAllText(_temp.Sub("base.conf"), "steps = 7\nseed = 3\n");
        File.WriteAllText(_temp.Sub("train.conf"), "include \"base.conf\"\njob = mlp\nseed = 4\n");

        var config = TrainConfigFile.Read(_temp.Sub("train.conf"));

        Assert.Equal((7L, 4L), (config.Steps, config.Seed));
    }

    [Theory]
    [InlineData("job = mlp\nworkDir = ${HOME}/x\n", "at line 2: ${HOME} is not a setting of the file (environment variables are not read); write the value out")]
    [InlineData("job = mlp\nsteps = [\n", " is not valid HOCON at line 2: '[' is never closed")]
    [InlineData("job = mlp\nsteps = 5 }\n", " is not valid HOCON at line 2: '}' closes nothing")]
    [InlineData("jobArgs { a = [ }\n", " is not valid HOCON at line 1: '}' closes the '[' of line 1")]
    [InlineData("job = \"mlp\nsteps = 5\n", " is not valid HOCON at line 1: a quoted string is not closed on its line")]
    [InlineData("include \"absent.conf\"\n", " includes 'absent.conf', but ")]
    public void A_HOCON_config_that_does_not_parse_names_the_file_and_line(string text, string message)
    {
        var path = _temp.Sub("bad.conf");
        File.WriteAllText(path, text);

        var error = Assert.Throws<UsageException>(() => TrainConfigFile.Read(path)).Message;

        Assert.StartsWith($"config file {path}", error);
        Assert.Contains(message, error);
    }

    [Fact]
    public void Comments_and_strings_may_hold_brackets() =>
        Assert.Null(HoconSyntax.FirstError("# a [ comment\n// and { another\njob = \"m{l]p\"\nnote = \"\"\"a [\n\"\"\"\nargs { a = [1, 2] }\n", HoconReferences.Allowed));
}
