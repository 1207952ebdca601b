using System.Collections.Concurrent;

namespace Orchestrator.Tests.Support;

/// <summary>
/// The uninterrupted runs that crash and resume tests compare their weights with, each trained once per test
/// run. Training is deterministic, so the same flags give the same weights in any work dir; the suite used to
/// train the same reference a dozen times over, minutes of its 15-minute budget on 2 cores.
/// </summary>
public static class ReferenceRuns
{
    private static readonly string Root = Path.Combine(Path.GetTempPath(), "orchestrator-tests", $"references-{Guid.NewGuid():N}");
    private static readonly ConcurrentDictionary<string, Lazy<CliResult>> Runs = new();

    /// <summary>
    /// The weights digest of <paramref name="job"/> trained straight through <paramref name="steps"/> steps
    /// with <see cref="CliProcess.Train"/>'s flags and <paramref name="more"/>. It saves only its final
    /// checkpoint: when a run checkpoints must not change what it trains, and the runs compared with it
    /// checkpoint on their own schedules.
    /// </summary>
    public static string WeightsSha256(string job, int steps, params string[] more)
    {
        var key = string.Join('\u001f', [job, steps.ToString(), .. more]);
        var run = Runs.GetOrAdd(key, _ => new Lazy<CliResult>(() => Train(job, steps, more), LazyThreadSafetyMode.ExecutionAndPublication)).Value;
        Assert.True(run.ExitCode == 0, $"the reference run failed: {run}");
        return run.WeightsSha256;
    }

    private static CliResult Train(string job, int steps, string[] more)
    {
        var workDir = Path.Combine(Root, Guid.NewGuid().ToString("N"));
        var result = CliProcess.Run(CliProcess.Train(job, workDir, steps, every: steps, more));
        try
        {
            Directory.Delete(workDir, recursive: true);
        }
        catch (IOException)
        {
            // Only the digest is kept; a leftover folder under the temp root is harmless.
        }
        return result;
    }
}
