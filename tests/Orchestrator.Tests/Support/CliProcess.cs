using System.Diagnostics;
using System.Text;

namespace Orchestrator.Tests.Support;

/// <summary>Starts the real <c>orchestrator</c> program, as a user would, and collects what it prints.</summary>
public static class CliProcess
{
    public static readonly TimeSpan Limit = TimeSpan.FromMinutes(3);

    public static CliResult Run(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        using var running = Start(args, environment);
        return running.WaitForExit();
    }

    public static RunningCli Start(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add(OrchestratorProgram.Dll);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        start.Environment.Remove("ORCHESTRATOR_KILL_AT");
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }
        return new RunningCli(Process.Start(start)!);
    }

    /// <summary>The train flags every process test uses: one thread (reproducible), quiet progress.</summary>
    public static List<string> Train(string job, string workDir, int steps, int every = 10, params string[] more) =>
        ["train", "--job", job, "--work-dir", workDir, "--steps", steps.ToString(), "--checkpoint-every", every.ToString(), "--threads", "1", "--samples", "512", .. more];
}

public sealed record CliResult(int ExitCode, string Output, string Error)
{
    public string WeightsSha256 =>
        Output.Split('\n').Select(l => l.Trim()).SingleOrDefault(l => l.StartsWith("weights-sha256: ", StringComparison.Ordinal))?["weights-sha256: ".Length..]
        ?? throw new Xunit.Sdk.XunitException($"no weights-sha256 line (exit {ExitCode}); stdout: {Output}; stderr: {Error}");

    public override string ToString() => $"exit {ExitCode}\nstdout:\n{Output}\nstderr:\n{Error}";
}

/// <summary>A started process whose stderr lines can be awaited one by one (for kills at chosen moments).</summary>
public sealed class RunningCli : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _error = new();
    private readonly Task<string> _output;
    private readonly System.Threading.Channels.Channel<string> _lines = System.Threading.Channels.Channel.CreateUnbounded<string>();
    private readonly Task _errorPump;

    public RunningCli(Process process)
    {
        _process = process;
        _output = process.StandardOutput.ReadToEndAsync();
        _errorPump = Task.Run(async () =>
        {
            while (await process.StandardError.ReadLineAsync() is { } line)
            {
                lock (_error)
                {
                    _error.AppendLine(line);
                }
                await _lines.Writer.WriteAsync(line);
            }
            _lines.Writer.Complete();
        });
    }

    public int Id => _process.Id;

    /// <summary>Waits for the next stderr line that satisfies <paramref name="match"/>; fails if the process ends first.</summary>
    public async Task<string> WaitForLineAsync(Func<string, bool> match)
    {
        using var timeout = new CancellationTokenSource(CliProcess.Limit);
        await foreach (var line in _lines.Reader.ReadAllAsync(timeout.Token))
        {
            if (match(line))
            {
                return line;
            }
        }
        throw new Xunit.Sdk.XunitException($"process ended before the expected line; stderr: {_error}");
    }

    public void KillHard() => _process.Kill();

    public CliResult WaitForExit()
    {
        if (!_process.WaitForExit(CliProcess.Limit))
        {
            _process.Kill(entireProcessTree: true);
            throw new Xunit.Sdk.XunitException($"orchestrator did not finish within {CliProcess.Limit}; stderr: {_error}");
        }
        _errorPump.Wait(CliProcess.Limit);
        lock (_error)
        {
            return new CliResult(_process.ExitCode, _output.Result, _error.ToString());
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
