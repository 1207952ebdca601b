using Orchestrator.Tests.Support;

namespace Orchestrator.Tests.Cli;

/// <summary>Every kind of bad input ends in one line naming the problem and the fix, exit code 2, no stack trace.</summary>
public sealed class BadInputTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Inspect_given_a_work_dir_points_to_list_and_to_one_checkpoint()
    {
        var dir = _temp.Sub("run");
        Assert.Equal(0, CliProcess.Run(CliProcess.Train("mlp", dir, 20)).ExitCode);

        AssertRefused(["checkpoints", "inspect", dir],
            $"error: checkpoints inspect: {dir} is a work dir, not one checkpoint; see its checkpoints with 'checkpoints list {dir}' and inspect one, e.g. 'checkpoints inspect {Path.Combine(dir, "checkpoints", "iter_20")}'");
    }

    [Fact]
    public void Unknown_job() =>
        AssertRefused(["train", "--job", "gpt", "--work-dir", _temp.Path], "error: unknown job 'gpt' (built in: mlp, cnn, charlm; for a job of your own give --job-assembly PATH.dll)");

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

        Assert.StartsWith($"error: config file {path} is not valid at line 1: ", result.Error);
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

        var named = Path.Combine(dir, "checkpoints", "iter_10");
        AssertRefused(CliProcess.Train("cnn", _temp.Sub("other"), 20, more: ["--resume", named]),
            $"error: checkpoint {named} is of job 'mlp', not 'cnn'; give --resume a checkpoint of job 'cnn', or --load-from for weights only");
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
    public void Unknown_fault_kind() =>
        AssertRefused(CliProcess.Train("mlp", _temp.Sub("run"), 10, more: ["--inject-fault", "explode@step=3"]),
            "error: unknown fault kind 'explode' in 'explode@step=3' (crash, hang, nan, kill-process)");

    [Fact]
    public void Fault_on_a_rank_the_job_does_not_have() =>
        AssertRefused(CliProcess.Train("mlp", _temp.Sub("run"), 10, more: ["--ranks", "2", "--inject-fault", "crash@step=3,rank=2"]),
            "error: fault crash@step=3,rank=2 names rank 2, but the job has 2 rank(s)");

    [Fact]
    public void Ranks_that_do_not_divide_the_batch() =>
        AssertRefused(CliProcess.Train("mlp", _temp.Sub("run"), 10, more: ["--ranks", "3"]),
            "error: --ranks 3 does not divide the global batch of 64; choose a world size that divides it, or change --batch-size");

    [Fact]
    public void Unknown_journal_kind() =>
        AssertRefused(CliProcess.Train("mlp", _temp.Sub("run"), 10, more: ["--journal", "mysql"]),
            "error: journal 'mysql' is not 'sqlite', 'sqlite:FILE' or 'postgres:CONNECTION-STRING' (e.g. postgres:Host=localhost;Database=orchestrator;Username=me)");

    [Fact]
    public void Unreachable_PostgreSQL_journal()
    {
        var result = Refused(CliProcess.Train("mlp", _temp.Sub("run"), 10, more: ["--journal", "postgres:Host=127.0.0.1;Port=1;Database=x;Username=y"]));

        Assert.StartsWith("error: cannot use the PostgreSQL journal (", result.Error);
        Assert.EndsWith("check the connection string after 'postgres:'", result.Error.Trim());
    }

    [Fact]
    public void Node_on_a_port_already_in_use()
    {
        using var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        taken.Start();
        var port = ((System.Net.IPEndPoint)taken.LocalEndpoint).Port;

        AssertRefused(["node", "--hostname", "127.0.0.1", "--port", port.ToString(), "--seeds", $"127.0.0.1:{port}", "--journal", $"sqlite:{_temp.Sub("journal.db")}"],
            $"error: port {port} on 127.0.0.1 is already in use (another node, or another program); stop it or give this node another --port");
    }

    [Fact]
    public void History_of_a_work_dir_without_a_job() =>
        AssertRefused(["history", "--work-dir", _temp.Path], $"error: no job journal at {Path.Combine(_temp.Path, "journal.db")} (run 'orchestrator train --work-dir {_temp.Path} ...' first, or name a cluster's journal with --journal sqlite:FILE)");

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
