using System.Globalization;
using Orchestrator.Actors.Job;

namespace Orchestrator.Cli.Commands;

/// <summary>
/// How long after the first Ctrl-C or SIGTERM a <c>train</c> may take to save and stop before the process
/// ends without a save (its committed checkpoints intact). By default long enough for a hung rank to be
/// found and the job to stop on its own: twice the step timeout, at least 30 s, at most 10 min. An operator
/// whose container is killed some seconds after its SIGTERM (docker stop: 10 s, Kubernetes: the pod's
/// grace period) sets ORCHESTRATOR_STOP_DEADLINE a little under that, so the process ends itself, saying
/// why in one line, with exit code 130, instead of being killed without a word.
/// </summary>
internal static class StopDeadline
{
    public const string Variable = "ORCHESTRATOR_STOP_DEADLINE";
    private const double MaxSeconds = 3600;

    public static TimeSpan For(JobSpec spec, string? setting)
    {
        if (setting is null)
        {
            return TimeSpan.FromTicks(Math.Max(TimeSpan.FromSeconds(30).Ticks, Math.Min(spec.StepTimeout.Ticks * 2, TimeSpan.FromMinutes(10).Ticks)));
        }
        if (!double.TryParse(setting, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) || !(seconds is >= 1 and <= MaxSeconds))
        {
            throw new UsageException($"{Variable}={setting} is out of range: give a number of seconds from 1 to {MaxSeconds:0}, or unset it for the default (twice --step-timeout, at least 30 s)");
        }
        return TimeSpan.FromSeconds(seconds);
    }
}
