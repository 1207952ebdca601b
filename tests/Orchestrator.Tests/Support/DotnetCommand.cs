using System.Diagnostics;
using System.Text;

namespace Orchestrator.Tests.Support;

/// <summary>
/// Runs the dotnet CLI (pack, tool install, new, build) as a user's shell would, and collects what it prints.
/// </summary>
public static class DotnetCommand
{
    /// <summary>Runs <c>dotnet</c> with <paramref name="args"/>; throws with everything it printed unless it exits 0.</summary>
    public static string Run(string workingDirectory, IEnumerable<string> args, TimeSpan limit, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        ForgetTestHostBuild(start.Environment);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        var output = new StringBuilder();
        using var streamsClosed = new CountdownEvent(2);
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, line) => Append(output, line.Data, streamsClosed);
        process.ErrorDataReceived += (_, line) => Append(output, line.Data, streamsClosed);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(limit))
        {
            process.Kill(entireProcessTree: true);
            throw new Xunit.Sdk.XunitException($"dotnet {string.Join(' ', start.ArgumentList)} took over {limit}:\n{Text(output)}");
        }
        // A build server the command started (compiler, MSBuild node) may inherit the pipes and hold them open
        // long after the command ends: wait for the last lines a little while, never for the server.
        streamsClosed.Wait(TimeSpan.FromSeconds(10));
        if (process.ExitCode != 0)
        {
            throw new Xunit.Sdk.XunitException($"dotnet {string.Join(' ', start.ArgumentList)} exited {process.ExitCode}:\n{Text(output)}");
        }
        return Text(output);
    }

    // `dotnet test` leaves its own MSBuild settings in the test host's environment (which MSBuild, which SDK
    // resolver, node reuse); a nested pack or build must find its SDK afresh, as in a user's shell.
    private static void ForgetTestHostBuild(IDictionary<string, string?> environment)
    {
        foreach (var key in environment.Keys.Where(k => k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            environment.Remove(key);
        }
        // No MSBuild worker nodes left running after a test.
        environment["MSBUILDDISABLENODEREUSE"] = "1";
        environment.Remove("ORCHESTRATOR_KILL_AT");
    }

    private static void Append(StringBuilder output, string? line, CountdownEvent streamsClosed)
    {
        if (line is null)
        {
            streamsClosed.Signal();
            return;
        }
        lock (output)
        {
            output.AppendLine(line);
        }
    }

    private static string Text(StringBuilder output)
    {
        lock (output)
        {
            return output.ToString();
        }
    }
}
