using System.Diagnostics;
using System.Globalization;
using Orchestrator.Actors.Job;
using Orchestrator.Trainer.Checkpointing;
using Orchestrator.Trainer.Training;

namespace Orchestrator.Cli.Terminal;

/// <summary>
/// Shows training progress on stderr: a bar redrawn in place on a terminal, or a plain line every 5% when
/// output goes to a file or CI log. Checkpoints and notes always get a line of their own.
/// </summary>
internal sealed class ProgressObserver(bool quiet) : ITrainingObserver
{
    private const int BarWidth = 24;
    private readonly bool _interactive = !Console.IsErrorRedirected;
    private readonly Stopwatch _sinceDraw = Stopwatch.StartNew();
    private string _lastCheckpoint = "none";
    private long _lineEvery = 1;
    private bool _barShown;

    public void Started(RunStart start) => Started(start, null);

    /// <summary>
    /// The start line, with where the time since the process began went when the supervisor said (a resume
    /// after kill -9 is judged by it): the process and runtime, the journal's replay, the checkpoint and ranks.
    /// </summary>
    public void Started(RunStart start, StartupTimes? startup)
    {
        _lineEvery = Math.Max(1, (start.TotalIterations - start.FirstIteration) / 20);
        var from = start.ResumedFrom is null ? "fresh start" : $"resumed from {Path.GetFileName(start.ResumedFrom)} at step {start.FirstIteration}";
        var times = startup is null ? "" : Described(startup);
        Line($"job {start.Job}: {from}, training to step {start.TotalIterations}{times}");
    }

    private static string Described(StartupTimes startup)
    {
        using var self = Process.GetCurrentProcess();
        var sinceProcessStart = DateTime.Now - self.StartTime;
        // What the supervisor did not time is the process's own start: runtime, JIT, the job's check (rank 0's
        // replica built once, which also loads libtorch), configuration, actor system.
        var process = sinceProcessStart - startup.JournalRecovery - startup.RanksStarted;
        return string.Create(CultureInfo.InvariantCulture,
            $" (up in {sinceProcessStart.TotalSeconds:0.00} s: process {Math.Max(0, process.TotalSeconds):0.00} s, journal {startup.JournalRecovery.TotalSeconds:0.00} s, checkpoint and ranks {startup.RanksStarted.TotalSeconds:0.00} s)");
    }

    public void Stepped(StepReport step)
    {
        if (quiet)
        {
            return;
        }
        var text = string.Create(CultureInfo.InvariantCulture,
            $"step {step.Iteration}/{step.TotalIterations} epoch {step.Epoch} loss {step.Loss:0.0000} lr {step.LearningRate:0.####e0} {step.StepsPerSecond:0.0} steps/s ckpt {_lastCheckpoint}");
        if (_interactive)
        {
            if (_sinceDraw.ElapsedMilliseconds >= 100 || step.Iteration == step.TotalIterations)
            {
                var filled = (int)(BarWidth * step.Iteration / Math.Max(1, step.TotalIterations));
                Console.Error.Write($"\r[{new string('#', filled)}{new string('.', BarWidth - filled)}] {text}\u001b[K");
                _barShown = true;
                _sinceDraw.Restart();
            }
        }
        else if (step.Iteration % _lineEvery == 0 || step.Iteration == step.TotalIterations)
        {
            Console.Error.WriteLine(text);
        }
    }

    public void Saved(SaveReport save)
    {
        _lastCheckpoint = save.Name;
        if (save.AlreadyPresent)
        {
            return;
        }
        var deleted = save.Deleted.Count > 0 ? $", removed {string.Join(", ", save.Deleted)}" : "";
        Line(string.Create(CultureInfo.InvariantCulture,
            $"checkpoint {save.Name} ({save.Reason}): {save.Bytes / 1024.0:0.0} KiB, stall {save.Stall.TotalMilliseconds:0.0} ms, write {save.WriteDuration.TotalMilliseconds:0.0} ms{deleted}"));
    }

    public void Note(string message) => Line(message);

    public void Finish()
    {
        if (_barShown)
        {
            Console.Error.WriteLine();
            _barShown = false;
        }
    }

    private void Line(string text)
    {
        Finish();
        Console.Error.WriteLine(text);
    }
}
