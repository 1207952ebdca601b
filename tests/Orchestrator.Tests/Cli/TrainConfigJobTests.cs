using Orchestrator.Cli.Commands;
using Orchestrator.Tests.Support;
using Orchestrator.Trainer.Checkpointing;

namespace Orchestrator.Tests.Cli;

/// <summary>A config file takes everything the flags take: a user's job and its arguments, key surgery, resume switches.</summary>
public sealed class TrainConfigJobTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    private static Orchestrator.Actors.Job.JobSpec Build(string configPath, params string[] flags) =>
        TrainSpecBuilder.Build(ParsedArguments.Parse("train", flags, TrainCommand.ValueOptions, TrainCommand.Switches, TrainCommand.Repeatable), TrainConfigFile.Read(configPath));

    [Fact]
    public void A_JSON_config_gives_the_job_assembly_its_arguments_and_the_key_surgery()
    {
        var path = _temp.Sub("job.json");
        File.WriteAllText(path, $$"""
            {
              "job": "autoencoder", "jobAssembly": "{{SampleJobsLibrary.DllPath}}", "workDir": "{{_temp.Sub("run")}}",
              "jobArgs": { "width": 6, "mode": "exact", "shuffle": true },
              "nonStrict": true, "removePrefix": "net.", "addPrefix": "model.", "reviseKey": ["^a=b", "c$=d"], "ignoreKeys": ["head"],
              "noOptimizerState": true, "noSchedulerState": true, "deleteExisting": true
            }
            """);

        var spec = Build(path, "--revise-key", "^e=f", "--ignore-keys", "tail", "--job-arg", "width=7");

        Assert.Equal(SampleJobsLibrary.DllPath, spec.JobAssembly!.Path);
        Assert.Equal(64, spec.JobAssembly.Sha256.Length);
        Assert.Equal(new Dictionary<string, string> { ["width"] = "7", ["mode"] = "exact", ["shuffle"] = "true" }, spec.JobArgs);
        Assert.False(spec.ModelLoad.Strict);
        Assert.Equal(("net.", "model."), (spec.ModelLoad.RemovePrefix, spec.ModelLoad.AddPrefix));
        Assert.Equal([new KeyRevision("^a", "b"), new KeyRevision("c$", "d"), new KeyRevision("^e", "f")], spec.ModelLoad.Revisions);
        Assert.Equal(["head", "tail"], spec.ModelLoad.IgnoreKeys);
        Assert.True(spec.SkipOptimizerState && spec.SkipSchedulerState);
    }

    [Fact]
    public void A_HOCON_config_takes_job_arguments_as_an_object_and_lists_as_lists()
    {
        var path = _temp.Sub("job.conf");
        File.WriteAllText(path, """
            job = autoencoder
            jobArgs { width = 6, samples = 256 }
            ignoreKeys = [ "head", "tail" ]
            injectFaults = [ "crash@step=3" ]
            """);

        var spec = Build(path, "--work-dir", _temp.Sub("run"));

        Assert.Equal(new Dictionary<string, string> { ["width"] = "6", ["samples"] = "256" }, spec.JobArgs);
        Assert.Equal(["head", "tail"], spec.ModelLoad.IgnoreKeys);
        Assert.Equal(["crash@step=3"], spec.Faults);
    }

    [Fact]
    public void Revise_key_and_ignore_keys_may_be_given_several_times()
    {
        var path = _temp.Sub("empty.json");
        File.WriteAllText(path, """{ "job": "mlp" }""");

        var spec = Build(path, "--work-dir", _temp.Sub("run"), "--revise-key", "^module\\.=", "--revise-key", "^backbone\\.=net.", "--ignore-keys", "fc", "--ignore-keys", "bn");

        Assert.Equal([new KeyRevision("^module\\.", ""), new KeyRevision("^backbone\\.", "net.")], spec.ModelLoad.Revisions);
        Assert.Equal(["fc", "bn"], spec.ModelLoad.IgnoreKeys);
    }

    [Fact]
    public void A_job_argument_given_twice_on_the_command_line_is_refused()
    {
        var path = _temp.Sub("empty.json");
        File.WriteAllText(path, """{ "job": "mlp" }""");

        var error = Assert.Throws<UsageException>(() => Build(path, "--work-dir", _temp.Sub("run"), "--job-arg", "width=4", "--job-arg", "width=5"));

        Assert.Equal("--job-arg width is given twice; give it once", error.Message);
    }

    [Fact]
    public void A_users_job_from_a_config_file_trains_the_same_weights_as_the_same_flags()
    {
        var path = _temp.Sub("job.json");
        File.WriteAllText(path, $$"""{ "job": "autoencoder", "jobAssembly": "{{SampleJobsLibrary.DllPath}}", "jobArgs": { "width": 5 }, "steps": 30, "checkpointEvery": 10, "threads": 1 }""");

        var fromConfig = CliProcess.Run(["train", "--config", path, "--work-dir", _temp.Sub("config"), "--quiet"]);
        var fromFlags = CliProcess.Run(["train", "--job-assembly", SampleJobsLibrary.DllPath, "--job", "autoencoder", "--job-arg", "width=5", "--steps", "30",
            "--checkpoint-every", "10", "--threads", "1", "--work-dir", _temp.Sub("flags"), "--quiet"]);

        Assert.True(fromConfig.ExitCode == 0, fromConfig.ToString());
        Assert.Equal(fromFlags.WeightsSha256, fromConfig.WeightsSha256);
    }
}
