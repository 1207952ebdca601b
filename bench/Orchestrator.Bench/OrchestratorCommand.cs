using System.Diagnostics;

namespace Orchestrator.Bench;

/// <summary>The real <c>orchestrator</c> program, built beside the benchmark, started as a user would start it.</summary>
internal static class OrchestratorCommand
{
    public static ProcessStartInfo With(IEnumerable<string> args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "orchestrator.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        return start;
    }
}
