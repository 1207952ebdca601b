using Orchestrator.Tests.Support;

namespace Orchestrator.Tests.Cli;

/// <summary>Each train flag does what the help says, seen through the files and output a user sees.</summary>
public sealed class TrainOptionsTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void A_config_file_trains_the_same_weights_as_the_same_flags()
    {
        var path = _temp.Sub("job.json");
        File.WriteAllText(path, $$"""
            {
              // comments are allowed
              "job": "mlp", "workDir": "{{_temp.Sub("from-config").Replace("\\", "\\\\")}}", "steps": 25,
              "checkpointEvery": 10, "threads": 1, "samples": 512, "seed": 9,
            }
            """);

        var fromConfig = CliProcess.Run(["train", "--config", path]);
        var fromFlags = CliProcess.Run(CliProcess.Train("mlp", _temp.Sub("from-flags"), 25, more: ["--seed", "9"]));

        Assert.True(fromConfig.ExitCode == 0, fromConfig.ToString());
        Assert.Equal(fromFlags.WeightsSha256, fromConfig.WeightsSha256);
    }

    [Fact]
    public void A_HOCON_config_file_trains_the_same_weights_as_the_same_flags()
    {
        var path = _temp.Sub("job.conf");
        File.WriteAllText(path, """
            # the same settings as flags, in HOCON
            job = mlp
            steps = 25
            checkpointEvery = 10
            threads = 1
            samples = 512
            seed = 9
            """);

        var fromConfig = CliProcess.Run(["train", "--config", path, "--work-dir", _temp.Sub("from-hocon")]);
        var fromFlags = CliProcess.Run(CliProcess.Train("mlp", _temp.Sub("from-flags"), 25, more: ["--seed", "9"]));

        Assert.True(fromConfig.ExitCode == 0, fromConfig.ToString());
        Assert.Equal(fromFlags.WeightsSha256, fromConfig.WeightsSha256);
    }

    [Fact]
    public void Flags_override_the_config_file()
    {
        var path = _temp.Sub("job.json");
        File.WriteAllText(path, """{ "job": "mlp", "steps": 1000, "threads": 1, "samples": 512 }""");

        var result = CliProcess.Run(["train", "--config", path, "--work-dir", _temp.Sub("run"), "--steps", "12"]);

        Assert.Contains("completed 12 steps", result.Output);
    }

    [Fact]
    public void Epochs_with_epoch_checkpoints_name_folders_by_epoch_and_step()
    {
        var dir = _temp.Sub("run");

        var result = CliProcess.Run(["train", "--job", "mlp", "--work-dir", dir, "--epochs", "3", "--checkpoint-every-epochs", "1", "--threads", "1", "--samples", "512"]);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(["epoch_1_iter_8", "epoch_2_iter_16", "epoch_3_iter_24"], Checkpoints(dir));
    }

    [Fact]
    public void Name_template_and_keep_shape_what_stays_on_disk()
    {
        var dir = _temp.Sub("run");

        CliProcess.Run(CliProcess.Train("mlp", dir, 50, more: ["--keep", "2", "--name-template", "exp1_step{n}.ckpt"]));
        var list = CliProcess.Run(["checkpoints", "list", dir]);

        Assert.Equal(["exp1_step40.ckpt", "exp1_step50.ckpt"], Checkpoints(dir));
        Assert.Contains("exp1_step50.ckpt", list.Output);
        Assert.Contains("(latest)", list.Output);
    }

    [Fact]
    public void No_save_last_leaves_only_scheduled_checkpoints()
    {
        var dir = _temp.Sub("run");

        CliProcess.Run(CliProcess.Train("mlp", dir, 25, more: ["--no-save-last"]));

        Assert.Equal(["iter_10", "iter_20"], Checkpoints(dir));
    }

    [Fact]
    public void Inspect_shows_tensors_and_the_same_weights_digest_that_train_printed()
    {
        var dir = _temp.Sub("run");
        var trained = CliProcess.Run(CliProcess.Train("cnn", dir, 20));

        var inspect = CliProcess.Run(["checkpoints", "inspect", Path.Combine(dir, "checkpoints", "iter_20")]);

        Assert.Equal(0, inspect.ExitCode);
        Assert.Contains("job: cnn", inspect.Output);
        Assert.Contains("model/norm1.running_mean Float32 [8]", inspect.Output);
        Assert.Contains("model/conv1.weight Float32 [8, 1, 3, 3]", inspect.Output);
        Assert.Equal(trained.WeightsSha256, inspect.WeightsSha256);
    }

    [Fact]
    public void Resume_none_with_delete_existing_starts_over_and_without_it_refuses()
    {
        var dir = _temp.Sub("run");
        var first = CliProcess.Run(CliProcess.Train("mlp", dir, 20));

        var refused = CliProcess.Run(CliProcess.Train("mlp", dir, 20, more: ["--resume", "none"]));
        var again = CliProcess.Run(CliProcess.Train("mlp", dir, 20, more: ["--resume", "none", "--delete-existing"]));

        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("deleted 2 existing checkpoint(s)", again.Error);
        Assert.Equal(first.WeightsSha256, again.WeightsSha256);
    }

    [Fact]
    public void Non_strict_load_from_with_ignored_keys_fine_tunes_from_matching_weights()
    {
        var dir = _temp.Sub("pre");
        CliProcess.Run(CliProcess.Train("mlp", dir, 20));

        var result = CliProcess.Run(CliProcess.Train("mlp", _temp.Sub("ft"), 5, more:
            ["--load-from", Path.Combine(dir, "checkpoints", "iter_20"), "--ignore-keys", "^output\\.", "--add-prefix", "x.", "--remove-prefix", "x.", "--non-strict"]));

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("loaded weights from iter_20", result.Error);
    }

    private static List<string> Checkpoints(string dir) =>
        Directory.GetDirectories(Path.Combine(dir, "checkpoints")).Select(p => Path.GetFileName(p)!).Order(StringComparer.Ordinal).ToList();
}
