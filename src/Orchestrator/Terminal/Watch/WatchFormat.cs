using System.Globalization;

namespace Orchestrator.Cli.Terminal.Watch;

/// <summary>The few numbers both watch views print, formatted the same way in each.</summary>
internal static class WatchFormat
{
    /// <summary>A short age or time left: "4 s", "12 min", "3.5 h".</summary>
    public static string Duration(TimeSpan span)
    {
        var seconds = Math.Max(0, span.TotalSeconds);
        return seconds < 120 ? string.Create(CultureInfo.InvariantCulture, $"{seconds:0} s")
            : seconds < 7200 ? string.Create(CultureInfo.InvariantCulture, $"{seconds / 60:0} min")
            : string.Create(CultureInfo.InvariantCulture, $"{seconds / 3600:0.0} h");
    }

    /// <summary>"340/1000", "340 (of 3 epochs)" for a job given in epochs, or "340" when the length is unknown.</summary>
    public static string Progress(JobSnapshot job) => (job.Total, job.Epochs) switch
    {
        ({ } total, _) => string.Create(CultureInfo.InvariantCulture, $"{job.Step}/{total}"),
        (null, { } epochs) => string.Create(CultureInfo.InvariantCulture, $"{job.Step} (of {epochs} epochs)"),
        _ => job.Step.ToString(CultureInfo.InvariantCulture),
    };

    public static string Loss(double? loss) => loss is { } value ? value.ToString("0.0000", CultureInfo.InvariantCulture) : "-";

    public static string Rate(double? stepsPerSecond) => stepsPerSecond is { } rate
        ? rate.ToString(rate < 10 ? "0.0" : "0", CultureInfo.InvariantCulture) + " steps/s"
        : "- steps/s";

    /// <summary>"iter_300 (4 s ago)", or "none".</summary>
    public static string Checkpoint(JobSnapshot job, DateTimeOffset now) => job.Checkpoint is { } name
        ? job.CheckpointAt is { } at ? $"{name} ({Duration(now - at)} ago)" : name
        : "none";

    /// <summary>The node part of an Akka address: akka.tcp://orchestrator@10.0.0.5:4053 is 10.0.0.5:4053.</summary>
    public static string Node(string address) => Commands.Cluster.JobFollower.Short(address);
}
