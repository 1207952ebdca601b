using System.Globalization;
using Orchestrator.Actors.Job;

namespace Orchestrator.Cli.Plots;

/// <summary>
/// What <c>orchestrator plot</c> draws, and nothing about how: the two series from TensorBoard and the marks
/// from the job's journal. Kept apart from the drawing so tests can check what is plotted without pixels.
/// </summary>
internal sealed record TrainingPlot(
    string Job,
    string Outcome,
    IReadOnlyList<StepValue> Loss,
    IReadOnlyList<StepValue> StepsPerSecond,
    JournalMarks Marks)
{
    public static TrainingPlot Build(IReadOnlyList<JobEvent> journal, IReadOnlyList<StepValue> loss, IReadOnlyList<StepValue> stepsPerSecond) =>
        new(Describe(journal), JournalMarks.OutcomeOf(journal), loss, stepsPerSecond, JournalMarks.Read(journal));

    public long StepsRedone => Marks.Resumes.Sum(r => r.StepsRedone);

    /// <summary>The one line the command prints, e.g. <c>plotted 600 steps, 6 checkpoints, 2 failures, 2 resumes (68 steps redone) -> plot.png</c>.</summary>
    public string Summary(string output)
    {
        var resizes = Marks.Resizes.Count > 0 ? $", {Count(Marks.Resizes.Count, "resize")}" : "";
        return $"plotted {Count(Loss.Count, "step")}, {Count(Marks.Checkpoints.Count, "checkpoint")}, {Count(Marks.Failures.Count, "failure")}, " +
            $"{Count(Marks.Resumes.Count, "resume")} ({Count(StepsRedone, "step")} redone){resizes} -> {output}";
    }

    /// <summary><c>cnn, 2 ranks</c>: the job as first submitted.</summary>
    private static string Describe(IReadOnlyList<JobEvent> journal) =>
        journal.OfType<JobSubmitted>().FirstOrDefault()?.Spec is { } spec ? $"{spec.Job}, {Count(spec.Ranks, "rank")}" : "job";

    private static string Count(long n, string noun) => string.Create(CultureInfo.InvariantCulture, $"{n} {noun}{(n == 1 ? "" : "s")}");
}

/// <summary>One scalar at one training step.</summary>
internal sealed record StepValue(long Step, double Value);

internal sealed record CheckpointMark(long Step, string Name, string Reason);

internal enum FailureKind
{
    /// <summary>A rank failed (crash, hang, NaN, lost node) and the supervisor saw it: a <c>RankFailed</c> event.</summary>
    RankFailed,

    /// <summary>The whole process was killed by an injected <c>kill-process</c> fault, at a known step.</summary>
    ProcessKilled,

    /// <summary>The process ended without recording why (kill -9, power loss); the step is the last one the journal knew.</summary>
    ProcessEnded,
}

/// <summary>A failure at <paramref name="Step"/>: the step that was being computed when it happened.</summary>
internal sealed record FailureMark(long Step, FailureKind Kind, string Label);

/// <summary>
/// Training went back to <paramref name="FromStep"/> (the checkpoint it resumed from) after a failure at
/// <paramref name="FailureStep"/>; the steps in between were computed twice.
/// </summary>
internal sealed record ResumeSpan(long FromStep, long FailureStep, long StepsRedone, string? FromCheckpoint);

/// <summary>A planned change of world size at a checkpoint: not a failure, nothing redone.</summary>
internal sealed record ResizeMark(long Step, int FromRanks, int ToRanks);
