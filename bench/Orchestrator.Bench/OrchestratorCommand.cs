using System.Diagnostics;

namespace Orchestrator.Bench;

/// <summary>The real <c>orchestrator</c> program, started as a user would start it.</summary>
internal static class OrchestratorCommand
{
    /// <summary>The build output beside the benchmark: what <c>dotnet run</c> starts, compiled by the JIT as it runs.</summary>
    public static ProcessStartInfo BuildOutput(IEnumerable<string> args) => Start(AppContext.BaseDirectory, args);

    /// <summary>The program as <c>dotnet publish</c> deploys it (ReadyToRun), published beside the benchmark by its build.</summary>
    public static ProcessStartInfo Published(IEnumerable<string> args)
    {
        var folder = Path.Combine(AppContext.BaseDirectory, "published");
        return File.Exists(Path.Combine(folder, "orchestrator.dll"))
            ? Start(folder, args)
            : throw new InvalidOperationException($"no published orchestrator in {folder}: run the benchmark with -c Release, whose build publishes it there");
    }

    private static ProcessStartInfo Start(string folder, IEnumerable<string> args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(folder, "orchestrator.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        return start;
    }
}
