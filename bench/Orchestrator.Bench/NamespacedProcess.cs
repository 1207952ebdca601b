using System.Diagnostics;
using System.Text;

namespace Orchestrator.Bench;

/// <summary>
/// A program run inside a network namespace (<c>ip netns exec</c>, which execs it: the process's id is the
/// program's own), its output kept to wait for a line and to explain a failure, its input open for orders.
/// </summary>
internal sealed class NamespacedProcess : IDisposable
{
    private static readonly TimeSpan LineLimit = TimeSpan.FromMinutes(3);
    // Every one still running, so that a benchmark stopped by a signal can end them (ShapedTeardown).
    private static readonly HashSet<NamespacedProcess> Running = [];
    private readonly Process _process;
    private readonly List<string> _lines = [];

    private NamespacedProcess(string ns, ProcessStartInfo program, IReadOnlyDictionary<string, string> environment)
    {
        var start = new ProcessStartInfo("ip") { RedirectStandardError = true, RedirectStandardOutput = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var arg in (string[])["netns", "exec", ns, program.FileName, .. program.ArgumentList])
        {
            start.ArgumentList.Add(arg);
        }
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }
        _process = Process.Start(start)!;
        lock (Running)
        {
            Running.Add(this);
        }
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>The <c>orchestrator</c> program beside the benchmark, with the cluster's shared secret.</summary>
    public static NamespacedProcess Orchestrator(string ns, string secret, IEnumerable<string> args) =>
        new(ns, OrchestratorCommand.BuildOutput(args), new Dictionary<string, string> { ["ORCHESTRATOR_SECRET"] = secret });

    /// <summary>This benchmark program itself, in one of its peer modes.</summary>
    public static NamespacedProcess Benchmark(string ns, IEnumerable<string> args)
    {
        var self = Environment.ProcessPath ?? throw new InvalidOperationException("cannot tell how this benchmark was started");
        var start = new ProcessStartInfo(self);
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            start.ArgumentList.Add(typeof(NamespacedProcess).Assembly.Location);
        }
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        return new(ns, start, new Dictionary<string, string>());
    }

    public int Id => _process.Id;

    public string Output
    {
        get
        {
            lock (_lines)
            {
                return string.Join('\n', _lines);
            }
        }
    }

    public int ExitCode => _process.ExitCode;

    public bool WaitForExit(TimeSpan limit) => _process.WaitForExit(limit);

    /// <summary>Sends one line to the program's input.</summary>
    public void Tell(string line)
    {
        _process.StandardInput.WriteLine(line);
        _process.StandardInput.Flush();
    }

    /// <summary>Waits until the output holds <paramref name="text"/> somewhere.</summary>
    public void WaitFor(string text) => WaitForLine(line => line.Contains(text, StringComparison.Ordinal), $"'{text}'");

    /// <summary>The first output line that starts with <paramref name="prefix"/>, the prefix cut off; waits for it.</summary>
    public string LineAfter(string prefix) => WaitForLine(line => line.StartsWith(prefix, StringComparison.Ordinal), $"a line starting '{prefix}'")[prefix.Length..];

    private string WaitForLine(Func<string, bool> wanted, string what)
    {
        var clock = Stopwatch.StartNew();
        lock (_lines)
        {
            while (true)
            {
                if (_lines.FirstOrDefault(wanted) is { } found)
                {
                    return found;
                }
                if (_process.HasExited || clock.Elapsed > LineLimit)
                {
                    throw new InvalidOperationException($"no {what} within {LineLimit.TotalMinutes:0} min; the process printed: {string.Join('\n', _lines)}");
                }
                Monitor.Wait(_lines, TimeSpan.FromSeconds(1));
            }
        }
    }

    public void Dispose()
    {
        lock (Running)
        {
            Running.Remove(this);
        }
        Kill();
        _process.WaitForExit();
        _process.Dispose();
    }

    /// <summary>Kills every one still running (from a signal handler: the benchmark is being stopped).</summary>
    public static void KillAll()
    {
        lock (Running)
        {
            foreach (var running in Running)
            {
                running.Kill();
            }
        }
    }

    private void Kill()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // ended meanwhile
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_lines)
        {
            _lines.Add(line);
            Monitor.PulseAll(_lines);
        }
    }
}
