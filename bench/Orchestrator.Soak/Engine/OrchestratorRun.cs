using System.Diagnostics;
using System.Text;

namespace Orchestrator.Soak;

/// <summary>One started <c>orchestrator</c> process (<c>dotnet orchestrator.dll ...</c>), its output collected as it comes.</summary>
public sealed class OrchestratorRun : IDisposable
{
    /// <summary>Longer than any run of the soak's size takes; a process past it is reported as hung.</summary>
    public static readonly TimeSpan Limit = TimeSpan.FromMinutes(3);

    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly StringBuilder _error = new();

    private OrchestratorRun(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) => Append(_output, e.Data);
        _process.ErrorDataReceived += (_, e) => Append(_error, e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public static OrchestratorRun Start(string orchestratorDll, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(orchestratorDll);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        // The soak kills from outside; a kill point left in the caller's environment would add kills it does not count.
        start.Environment.Remove("ORCHESTRATOR_KILL_AT");
        start.Environment.Remove("ORCHESTRATOR_SYNC_SAVES");
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }
        return new OrchestratorRun(Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start"));
    }

    /// <summary>Runs to its end and returns what it printed.</summary>
    public static RunResult Run(string orchestratorDll, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        using var run = Start(orchestratorDll, args, environment);
        return run.WaitForExit();
    }

    /// <summary>True if the process ended by itself within <paramref name="wait"/>.</summary>
    public bool ExitsWithin(TimeSpan wait) => _process.WaitForExit(wait);

    /// <summary>SIGKILL. The <c>dotnet</c> host runs the program in its own process, so this is the program's death.</summary>
    public void KillHard()
    {
        try
        {
            _process.Kill();
        }
        catch (InvalidOperationException)
        {
            // It ended by itself a moment before: the exit code tells which.
        }
    }

    public RunResult WaitForExit()
    {
        if (!_process.WaitForExit(Limit))
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
            return Result(hung: true);
        }
        _process.WaitForExit(); // drains the redirected streams
        return Result(hung: false);
    }

    private RunResult Result(bool hung)
    {
        lock (_output)
        {
            lock (_error)
            {
                return new RunResult(_process.ExitCode, _output.ToString(), _error.ToString(), hung);
            }
        }
    }

    private static void Append(StringBuilder to, string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (to)
        {
            to.AppendLine(line);
        }
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }
        _process.Dispose();
    }
}

/// <summary>How a process ended and what it printed. 137 is SIGKILL (128 + 9).</summary>
public sealed record RunResult(int ExitCode, string Output, string Error, bool Hung)
{
    public const int Killed = 137;

    public string? WeightsSha256 => Lines(Output).Where(l => l.StartsWith("weights-sha256: ", StringComparison.Ordinal)).Select(l => l["weights-sha256: ".Length..]).LastOrDefault();

    /// <summary>The checkpoint the start line names (<c>resumed from iter_N</c>), "" for a fresh start, null if no start line was printed.</summary>
    public string? ResumedFrom
    {
        get
        {
            var start = Lines(Error).FirstOrDefault(l => l.StartsWith("job ", StringComparison.Ordinal) && l.Contains(", training to step ", StringComparison.Ordinal));
            if (start is null)
            {
                return null;
            }
            const string Marker = "resumed from ";
            var at = start.IndexOf(Marker, StringComparison.Ordinal);
            return at < 0 ? "" : start[(at + Marker.Length)..].Split(' ')[0];
        }
    }

    /// <summary>A finished job rerun says so and trains nothing.</summary>
    public bool AlreadyComplete => Output.Contains("already complete at step", StringComparison.Ordinal);

    /// <summary>The last lines of stderr and stdout, for a failure report.</summary>
    public string Tail => string.Join(" | ", Lines(Error).TakeLast(4).Concat(Lines(Output).TakeLast(2)));

    private static IEnumerable<string> Lines(string text) => text.Split('\n').Select(l => l.TrimEnd('\r').Trim()).Where(l => l.Length > 0);
}
