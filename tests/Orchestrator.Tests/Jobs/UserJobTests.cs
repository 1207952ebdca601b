using System.Globalization;
using Orchestrator.Tests.Support;

namespace Orchestrator.Tests.Jobs;

/// <summary>
/// A user's job library (tests/SampleJobs, examples/TinyLm) run by the real orchestrator with everything the
/// built-in jobs get: ranks, faults and restarts, SIGKILL and resume, the journal, history, status and plot.
/// </summary>
public sealed class UserJobTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    private static List<string> Train(string assembly, string job, string workDir, int steps, int every, params string[] more) =>
        ["train", "--job-assembly", assembly, "--job", job, "--work-dir", workDir, "--steps", steps.ToString(CultureInfo.InvariantCulture),
         "--checkpoint-every", every.ToString(CultureInfo.InvariantCulture), "--threads", "1", "--quiet", .. more];

    [Fact]
    public void Two_ranks_with_a_crash_a_NaN_and_a_hang_end_with_the_clean_runs_weights_and_every_view_reads_the_job()
    {
        var dll = SampleJobsLibrary.DllPath;
        string[] settings = ["--ranks", "2", "--job-arg", "width=6", "--lr", "0.02"];
        var clean = CliProcess.Run(Train(dll, "autoencoder", _temp.Sub("clean"), 200, 25, settings));
        Assert.True(clean.ExitCode == 0, clean.ToString());

        var dir = _temp.Sub("faulty");
        var faulty = CliProcess.Run(Train(dll, "autoencoder", dir, 200, 25,
            [.. settings, "--inject-fault", "crash@step=40,rank=1", "--inject-fault", "nan@step=90,rank=0", "--inject-fault", "hang@step=160,rank=1", "--step-timeout", "3"]));

        Assert.True(faulty.ExitCode == 0, faulty.ToString());
        Assert.Equal(clean.WeightsSha256, faulty.WeightsSha256);
        var history = CliProcess.Run(["history", "--work-dir", dir]);
        Assert.Contains($"submitted       job autoencoder from {dll} (sha256 ", history.Output);
        Assert.Contains("args width=6", history.Output);
        Assert.Contains("3 failure(s), 3 restart(s)", history.Output);
        var status = CliProcess.Run(["status", "--work-dir", dir]);
        Assert.True(status.ExitCode == 0, status.ToString());
        Assert.Contains("completed", status.Output);
        var plot = CliProcess.Run(["plot", "--work-dir", dir, "--out", _temp.Sub("plot.svg")]);
        Assert.True(plot.ExitCode == 0, plot.ToString());
        Assert.Contains("plotted 200 steps", plot.Output);
        var inspect = CliProcess.Run(["checkpoints", "inspect", Path.Combine(dir, "checkpoints", "iter_200")]);
        Assert.Contains($"job assembly: {dll}", inspect.Output);
        Assert.Contains("job args: learningRate=0.02 width=6", inspect.Output);
    }

    [Fact]
    public void Killed_at_several_steps_the_rerun_ends_with_the_uninterrupted_weights()
    {
        var dll = SampleJobsLibrary.DllPath;
        var straight = CliProcess.Run(Train(dll, "autoencoder", _temp.Sub("straight"), 60, 10, "--ranks", "2"));
        Assert.True(straight.ExitCode == 0, straight.ToString());

        var dir = _temp.Sub("killed");
        foreach (var step in new[] { 9, 26, 43 })
        {
            var killed = CliProcess.Run(Train(dll, "autoencoder", dir, 60, 10, "--ranks", "2"), new Dictionary<string, string> { ["ORCHESTRATOR_KILL_AT"] = $"step:{step}" });
            Assert.True(killed.ExitCode == 137, killed.ToString());
        }
        var resumed = CliProcess.Run(Train(dll, "autoencoder", dir, 60, 10, "--ranks", "2"));

        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.Equal(straight.WeightsSha256, resumed.WeightsSha256);
    }

    [Fact]
    public void The_token_file_job_killed_at_random_steps_resumes_to_the_uninterrupted_weights() =>
        KilledAtRandomStepsResumesExactly(TinyLmDll(), "tinylm", steps: 48, every: 8, "--ranks", "2", "--job-arg", "context=16", "--width", "32", "--batch-size", "16");

    [Fact]
    public void A_job_with_accumulation_clipping_AdamW_and_a_TorchSharp_scheduler_killed_at_random_steps_resumes_exactly() =>
        KilledAtRandomStepsResumesExactly(SampleJobsLibrary.DllPath, "fulljob", steps: 40, every: 5, "--ranks", "2");

    // Three SIGKILLs at steps drawn at random (the seed is in any failure's message), then a plain rerun.
    private void KilledAtRandomStepsResumesExactly(string dll, string job, int steps, int every, params string[] settings)
    {
        var straight = CliProcess.Run(Train(dll, job, _temp.Sub("straight"), steps, every, settings));
        Assert.True(straight.ExitCode == 0, straight.ToString());

        var seed = Environment.TickCount;
        var random = new Random(seed);
        var kills = Enumerable.Range(0, 3).Select(_ => random.Next(1, steps)).Order().ToList();
        var dir = _temp.Sub("killed");
        foreach (var step in kills)
        {
            // A rerun resumes from a checkpoint before the step it was killed at, so it reaches every drawn step.
            var killed = CliProcess.Run(Train(dll, job, dir, steps, every, settings), new Dictionary<string, string> { ["ORCHESTRATOR_KILL_AT"] = $"step:{step}" });
            Assert.True(killed.ExitCode == 137, $"kill at step {step} (random seed {seed}): {killed}");
        }
        var resumed = CliProcess.Run(Train(dll, job, dir, steps, every, settings));

        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.True(straight.WeightsSha256 == resumed.WeightsSha256, $"kills at steps {string.Join(", ", kills)} (random seed {seed}) did not resume exactly");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void A_save_the_job_asks_for_is_taken_at_the_next_step_end(int ranks)
    {
        // Three micro-batches a step: the 20th loss is in step 7, so the request is seen as step 7 ends (with
        // two ranks step 8 may already run on step 7's averages, and then the save comes at its end).
        var run = CliProcess.Run(Train(SampleJobsLibrary.DllPath, "fulljob", _temp.Sub("run"), 30, 100, "--ranks", ranks.ToString(CultureInfo.InvariantCulture), "--job-arg", "requestSaveAtLoss=20"));

        Assert.True(run.ExitCode == 0, run.ToString());
        var requested = run.Error.Split('\n').Where(l => l.Contains("(requested)", StringComparison.Ordinal)).ToList();
        Assert.Single(requested);
        Assert.Matches(ranks == 1 ? "^checkpoint iter_7 " : "^checkpoint iter_[78] ", requested[0]);
        Assert.Contains("checkpoint      iter_", CliProcess.Run(["history", "--work-dir", _temp.Sub("run")]).Output);
    }

    [Fact]
    public void A_rebuilt_job_assembly_is_refused_naming_both_hashes_until_resumed_from_a_checkpoint()
    {
        var dll = SampleJobsLibrary.CopyTo(_temp.Sub("deployed"));
        var dir = _temp.Sub("run");
        Assert.Equal(0, CliProcess.Run(Train(dll, "autoencoder", dir, 20, 10)).ExitCode);
        var before = Sha256Of(dll);
        SampleJobsLibrary.Rebuild(dll);
        var after = Sha256Of(dll);

        var refused = CliProcess.Run(Train(dll, "autoencoder", dir, 40, 10));

        Assert.True(refused.ExitCode == 2, refused.ToString());
        Assert.Equal(
            $"error: job 'autoencoder' in {dir} was submitted with {dll} sha256 {before}, but {dll} now has sha256 {after}; rebuild the recorded code, or continue with the new code by giving --resume PATH (a checkpoint of this job)",
            refused.Error.Trim());
        var resumed = CliProcess.Run(Train(dll, "autoencoder", dir, 40, 10, "--resume", Path.Combine(dir, "checkpoints", "iter_20")));
        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.Contains("code changed    to " + dll, CliProcess.Run(["history", "--work-dir", dir]).Output);
        // From now on the new build is the job's code: a plain rerun takes it.
        Assert.Equal(0, CliProcess.Run(Train(dll, "autoencoder", dir, 50, 10)).ExitCode);
    }

    [Fact]
    public async Task A_rank_restarted_after_its_assembly_was_rebuilt_refuses_it_naming_both_hashes()
    {
        var dll = SampleJobsLibrary.CopyTo(_temp.Sub("deployed"));
        var submitted = Sha256Of(dll);
        // The crash comes after the rebuild: the restart waits 1.5 s, so the file has changed by then.
        using var running = CliProcess.Start(Train(dll, "autoencoder", _temp.Sub("run"), 400, 10,
            "--ranks", "2", "--inject-fault", "crash@step=150,rank=1", "--restart-backoff", "1500", "--max-restarts", "1"));
        await running.WaitForLineAsync(line => line.StartsWith("checkpoint iter_10 ", StringComparison.Ordinal));
        SampleJobsLibrary.Rebuild(dll);

        var result = running.WaitForExit();

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.EndsWith(
            $"error: job assembly {dll} has sha256 {Sha256Of(dll)}, but the job was submitted with sha256 {submitted}; restore that build, or to run the new code resubmit with --resume PATH (a checkpoint of this job)",
            result.Error.Trim());
    }

    private static string Sha256Of(string file) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(file)));

    private static string TinyLmDll()
    {
        var sample = new FileInfo(SampleJobsLibrary.DllPath);
        // tests/SampleJobs/bin/<Configuration>/net10.0/SampleJobs.dll -> examples/TinyLm/bin/<Configuration>/net10.0/TinyLm.dll
        var framework = sample.Directory!;
        var configuration = framework.Parent!;
        var root = configuration.Parent!.Parent!.Parent!.Parent!.FullName;
        var path = Path.Combine(root, "examples", "TinyLm", "bin", configuration.Name, framework.Name, "TinyLm.dll");
        return File.Exists(path) ? path : throw new FileNotFoundException($"examples/TinyLm was not built at {path}");
    }
}
