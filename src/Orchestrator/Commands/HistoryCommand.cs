using System.Globalization;
using Orchestrator.Actors.Job;
using Orchestrator.Actors.Job.Restart;
using Orchestrator.Trainer.Checkpointing;

namespace Orchestrator.Cli.Commands;

/// <summary><c>orchestrator history --work-dir DIR</c>: the job's events, one line each, oldest first.</summary>
internal static class HistoryCommand
{
    public const string Help = """
        usage: orchestrator history --work-dir DIR [--journal sqlite|sqlite:FILE|postgres:CONNECTION]

        Prints the job's journal: submission, rank starts, checkpoints, failures, restarts (with the
        checkpoint resumed from and the steps redone), and how it ended.
        """;

    public static int Run(IReadOnlyList<string> args)
    {
        var (_, history) = JournalReader.Read("history", args);
        var interruptions = JobInterruptions.Of(history.Events);
        var revealed = interruptions.Processes.ToLookup(p => p.RevealedAt);
        for (var i = 0; i < history.Events.Count; i++)
        {
            var e = history.Events[i];
            foreach (var death in revealed[i])
            {
                // Not an event (the dead process could not record it): dated by the event that revealed it.
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{e.At:yyyy-MM-dd HH:mm:ss.fff}  {Describe(death)}"));
            }
            // Names, arguments and reasons come from users and their files: escaped, so none can forge a line.
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{e.At:yyyy-MM-dd HH:mm:ss.fff}  {PrintableText.Escape(Describe(e))}"));
        }
        Console.WriteLine($"{history.Events.Count} events; {Totals(interruptions)}");
        return ExitCodes.Ok;
    }

    /// <summary>
    /// Failures and recoveries as plot counts them, then by kind: rank failures restarted inside the process,
    /// and process interruptions (kill -9, a crash) resumed by a rerun.
    /// </summary>
    internal static string Totals(JobInterruptions i) =>
        $"{i.Failures} failure(s), {i.Recoveries} restart(s), {i.StepsRedone} step(s) redone " +
        $"({i.RankFailures} rank failure(s) with {i.Restarts} restart(s) in the process, " +
        $"{i.ProcessInterruptionCount} process interruption(s) with {i.Resumes} resume(s) by a rerun)";

    private static string Describe(ProcessInterruption death) =>
        (death.Killed
            ? $"interrupted     the process was killed at step {death.Step} (kill-process fault)"
            : $"interrupted     the process ended without recording it, after step {death.Step - 1} (the last the journal knew of)") +
        (death.Resume is { } r ? $"; a rerun resumed from {r.FromCheckpoint ?? "the start"} (step {r.FromStep}), {death.StepsRedone} step(s) redone" : "; not resumed yet");

    internal static string Describe(JobEvent e) => e switch
    {
        JobSubmitted s => $"submitted       job {s.Spec.Describe()}, {s.Spec.Ranks} rank(s), {Length(s.Spec.Steps, s.Spec.Epochs)}, seed {s.Spec.JobOptions.Seed}" +
            (s.Spec.JobArgs is { Count: > 0 } jobArgs ? $", args {string.Join(" ", jobArgs.OrderBy(a => a.Key, StringComparer.Ordinal).Select(a => $"{a.Key}={a.Value}"))}" : "") +
            (s.Spec.Faults.Length > 0 ? $", faults {string.Join(" ", s.Spec.Faults)}" : ""),
        JobCodeChanged c => $"code changed    to {c.Assembly.Path} (sha256 {c.Assembly.ShortSha256()}), resumed from {c.FromCheckpoint}",
        JobExtended x => $"extended        to {Length(x.Steps, x.Epochs)}",
        RanksStarted r => $"ranks started   generation {r.Generation}, {r.Ranks} rank(s), {(r.FromCheckpoint is null ? "fresh" : $"from {r.FromCheckpoint}")} at step {r.FromStep}" +
            (r.Nodes is { Length: > 0 } nodes ? $", on {string.Join(" ", nodes.Select(Cluster.JobFollower.Short))}" : ""),
        WorldResized w => $"world resized   {w.FromRanks} -> {w.ToRanks} rank(s) at {w.Checkpoint} (step {w.Step}): {w.Reason}",
        CheckpointCommitted c => string.Create(CultureInfo.InvariantCulture, $"checkpoint      {c.Name} ({c.Reason}) at step {c.Step}, loss {LossOf(c)}, weights {Short(c.WeightsSha256)}"),
        FaultFired f => $"fault injected  {f.FaultId}",
        RankFailed f => $"rank failed     rank {f.Rank} at step {f.Step}: {f.Reason}",
        RestartScheduled r => string.Create(CultureInfo.InvariantCulture,
            $"restart         {(RestartModes.Parse(r.Mode) == RestartMode.All ? "all ranks" : $"rank {r.FailedRank} only")} from {r.FromCheckpoint ?? "the start"} (step {r.FromStep}), {r.StepsRedone} step(s) redone, after {r.DelayMilliseconds:0} ms"),
        JobCompleted c => $"completed       at step {c.Step}, weights {Short(c.WeightsSha256)}",
        JobFailed f => $"failed          {f.Reason}",
        JobStopped s => $"stopped         at step {s.Step}, checkpoint {s.Checkpoint ?? "none"}",
        _ => e.GetType().Name,
    };

    /// <summary>NaN when the checkpoint was recorded only on the resume after a kill (its loss died with the process).</summary>
    internal static string LossOf(CheckpointCommitted c) => double.IsNaN(c.Loss) ? "not recorded" : c.Loss.ToString("0.0000", CultureInfo.InvariantCulture);

    private static string Length(long? steps, long? epochs) => steps is { } s ? $"{s} steps" : $"{epochs} epochs";

    private static string Short(string digest) => digest.Length > 12 ? digest[..12] : digest;
}
