using Orchestrator.Tests.Support;

namespace Orchestrator.Tests.Cli;

/// <summary>Every kind of bad input ends in one line naming the problem and the fix, exit code 2, no stack trace.</summary>
public sealed class BadInputTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Unknown_job() =>
        AssertRefused(["train", "--job", "gpt", "--work-dir", _temp.Path], "error: unknown job 'gpt' (choose mlp, cnn, charlm)");

    [Fact]
    public void Missing_work_dir() =>
        AssertRefused(["train", "--job", "mlp"], "error: --work-dir is required");

    [Fact]
    public void Unknown_flag() =>
        AssertRefused(["train", "--job", "mlp", "--work-dir", _temp.Path, "--stpes", "5"], "error: unknown option --stpes for 'train' (orchestrator train --help lists them)");

    [Fact]
    public void Flag_without_its_value() =>
        AssertRefused(["train", "--job", "mlp", "--work-dir"], "error: --work-dir needs a value (orchestrator train --help)");

    [Fact]
    public void Malformed_number() =>
        AssertRefused(["train", "--job", "mlp", "--work-dir", _temp.Path, "--steps", "ten"], "error: --steps 'ten' is not a whole number (orchestrator train --help)");

    [Fact]
    public void Both_steps_and_epochs() =>
        AssertRefused(["train", "--job", "mlp", "--work-dir", _temp.Path, "--steps", "5", "--epochs", "1"], "error: give exactly one of --steps N and --epochs E");

    [Fact]
    public void Missing_config_file() =>
        AssertRefused(["train", "--config", _temp.Sub("nope.json")], $"error: config file {_temp.Sub("nope.json")} does not exist");

    [Fact]
    public void Unreadable_config_file()
    {
        var path = _temp.Sub("bad.json");
        File.WriteAllText(path, "{ \"job\": \"mlp\", ");

        var result = Refused(["train", "--config", path]);

        Assert.StartsWith($"error: config file {path} is not valid: ", result.Error);
        Assert.EndsWith("(it must be a JSON object of train options)", result.Error.Trim());
    }

    [Fact]
    public void Config_with_an_unknown_setting()
    {
        var path = _temp.Sub("typo.json");
        File.WriteAllText(path, """{ "job": "mlp", "stepz": 5 }""");

        Assert.Contains("stepz", Refused(["train", "--config", path, "--work-dir", _temp.Path]).Error);
    }

    [Fact]
    public void Work_dir_of_another_job()
    {
        var dir = _temp.Sub("run");
        Assert.Equal(0, CliProcess.Run(CliProcess.Train("mlp", dir, 10)).ExitCode);

        AssertRefused(CliProcess.Train("cnn", dir, 20), $"error: work dir {dir} holds job 'mlp', not 'cnn'; use another work dir");
    }

    [Fact]
    public void Checkpoint_of_another_model()
    {
        var dir = _temp.Sub("run");
        Assert.Equal(0, CliProcess.Run(CliProcess.Train("mlp", dir, 10)).ExitCode);

        AssertRefused(CliProcess.Train("cnn", _temp.Sub("other"), 20, more: ["--resume", Path.Combine(dir, "checkpoints", "iter_10")]),
            "error: checkpoint iter_10 is of job 'mlp', not 'cnn'; use a work dir of this job or --load-from for weights only");
    }

    [Fact]
    public void Weights_of_another_model_with_load_from()
    {
        var dir = _temp.Sub("run");
        Assert.Equal(0, CliProcess.Run(CliProcess.Train("mlp", dir, 10)).ExitCode);

        var result = Refused(CliProcess.Train("cnn", _temp.Sub("ft"), 5, more: ["--load-from", Path.Combine(dir, "checkpoints", "iter_10")]));

        Assert.StartsWith("error: checkpoint does not fit the model: missing keys ", result.Error);
    }

    [Fact]
    public void Resume_from_a_path_that_is_not_a_checkpoint() =>
        AssertRefused(CliProcess.Train("mlp", _temp.Sub("run"), 10, more: ["--resume", _temp.Sub("missing")]),
            $"error: missing: no such checkpoint folder ({_temp.Sub("missing")})");

    [Fact]
    public void Unknown_command() => AssertRefused(["fly"], "error: unknown command 'fly' (orchestrator --help lists them)");

    [Fact]
    public void Cuda_where_there_is_none() =>
        AssertRefused(CliProcess.Train("mlp", _temp.Sub("run"), 10, more: ["--device", "cuda"]),
            "error: device 'cuda' asked for but CUDA is not available (build with -p:TorchBackend=cuda on a machine with an NVIDIA driver, or use --device cpu)");

    [Fact]
    public void Help_is_not_an_error()
    {
        var result = CliProcess.Run(["train", "--help"]);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("--checkpoint-every N", result.Output);
    }

    private void AssertRefused(IEnumerable<string> args, string expectedLine) =>
        Assert.Equal(expectedLine, Refused(args).Error.Trim());

    private static CliResult Refused(IEnumerable<string> args)
    {
        var result = CliProcess.Run(args);
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Single(result.Error.Trim().Split('\n'));
        Assert.DoesNotContain("   at ", result.Error);
        return result;
    }
}
