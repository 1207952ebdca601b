using System.Diagnostics;

namespace Orchestrator.Trainer.Runtime;

/// <summary>
/// Named points in training and saving where tests kill the process for real (SIGKILL, no cleanup runs).
/// Armed only by the environment variable <c>ORCHESTRATOR_KILL_AT</c>, e.g. <c>step:120</c> or
/// <c>save:renamed#2</c> (the second time the point is reached). Unset, every call returns at once.
/// </summary>
public static class KillPoints
{
    public const string EnvironmentVariable = "ORCHESTRATOR_KILL_AT";

    private static readonly string? Armed = Environment.GetEnvironmentVariable(EnvironmentVariable);
    private static readonly Dictionary<string, int> Reached = [];
    private static readonly Lock Gate = new();

    /// <summary>The point <c>step:N</c>, reached once per training step: its name is formatted only when a point is armed.</summary>
    public static void ReachStep(long step)
    {
        if (Armed is not null)
        {
            Reach($"step:{step}");
        }
    }

    public static void Reach(string point)
    {
        if (Armed is null)
        {
            return;
        }
        int count;
        lock (Gate)
        {
            count = Reached[point] = Reached.GetValueOrDefault(point) + 1;
        }
        if (Armed == point || Armed == $"{point}#{count}")
        {
            Console.Out.Flush();
            Console.Error.WriteLine($"fault point {Armed}: killing the process");
            Process.GetCurrentProcess().Kill();
            Thread.Sleep(Timeout.Infinite); // SIGKILL is asynchronous; nothing more may run here.
        }
    }
}
