using System.Diagnostics;
using System.Globalization;
using Orchestrator.Actors.Cluster;
using Orchestrator.Actors.Job;

namespace Orchestrator.Cli.Commands.Cluster;

/// <summary>
/// Follows a cluster job until it ends, one line whenever its state, world size or checkpoint changes and a
/// progress line every few seconds. It rides out the coordinator moving to another node (no answer for a
/// while) and gives up only after <see cref="GiveUpAfter"/> without any.
/// </summary>
internal static class JobFollower
{
    private static readonly TimeSpan Poll = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan ProgressEvery = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan GiveUpAfter = TimeSpan.FromMinutes(3);

    public static int Follow(ClusterClient client, string workDir)
    {
        var lastAnswer = Stopwatch.StartNew();
        var sinceProgress = Stopwatch.StartNew();
        string? lastShape = null;
        var silent = false;
        while (true)
        {
            ClusterStatus status;
            try
            {
                status = client.Status(TimeSpan.FromSeconds(5));
            }
            catch (ClusterUnreachableException e)
            {
                if (lastAnswer.Elapsed > GiveUpAfter)
                {
                    throw;
                }
                if (!silent)
                {
                    Line($"no answer from the cluster ({e.Message.Split(" (")[0]}); waiting for the coordinator");
                    silent = true;
                }
                continue;
            }
            lastAnswer.Restart();
            silent = false;
            var job = status.Jobs.FirstOrDefault(j => j.WorkDir == workDir);
            if (job is null)
            {
                if (lastShape != "none")
                {
                    Line("the coordinator does not know the job yet");
                }
                lastShape = "none";
            }
            else
            {
                var shape = $"{job.State}|{job.WorldSize}|{job.LastCheckpoint}|{job.Why}|{job.Restarts}";
                if (shape != lastShape || sinceProgress.Elapsed > ProgressEvery)
                {
                    Line(Describe(job));
                    lastShape = shape;
                    sinceProgress.Restart();
                }
                if (ExitCodeFor(job.State) is { } code)
                {
                    return code;
                }
            }
            Thread.Sleep(Poll); // the polling interval of a command-line follower
        }
    }

    public static string Describe(JobLiveStatus job) => string.Create(CultureInfo.InvariantCulture,
        $"{job.State}{(job.Why is { } why ? $" ({why})" : "")}: step {job.Step}/{job.Total}, loss {job.Loss:0.0000}, {job.WorldSize} rank(s)" +
        $"{(job.RankNodes.Length > 0 ? $" on {string.Join(" ", job.RankNodes.Select(Short))}" : "")}, checkpoint {job.LastCheckpoint ?? "none"}, restarts {job.Restarts}");

    public static string Short(string address) => address.Contains('@', StringComparison.Ordinal) ? address[(address.IndexOf('@', StringComparison.Ordinal) + 1)..] : address;

    /// <summary>The exit code for a final state (the CLI's codes), null while the job goes on.</summary>
    internal static int? ExitCodeFor(string state) => state switch
    {
        "completed" or "alreadycomplete" => ExitCodes.Ok,
        "stopped" => ExitCodes.Interrupted,
        "failed" => ExitCodes.Failed,
        "refused" => ExitCodes.BadInput,
        _ => null,
    };

    private static void Line(string text) => Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{DateTime.UtcNow:HH:mm:ss.fff} {text}"));
}
