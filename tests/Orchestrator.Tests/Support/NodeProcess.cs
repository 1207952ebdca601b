using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading.Channels;

namespace Orchestrator.Tests.Support;

/// <summary>
/// A real <c>orchestrator</c> process (a cluster node, or a client following a job) whose stdout and stderr
/// lines can be awaited as they come, and which can be killed with SIGKILL like a machine dying.
/// </summary>
public sealed class NodeProcess : IDisposable
{
    private static readonly HashSet<int> HandedOut = [];
    private readonly Process _process;
    private readonly StringBuilder _all = new();
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();
    private readonly Task[] _pumps;
    private bool _disposed;

    private NodeProcess(Process process)
    {
        _process = process;
        _pumps = [Pump(process.StandardOutput), Pump(process.StandardError)];
        _ = Task.WhenAll(_pumps).ContinueWith(_ => _lines.Writer.TryComplete(), TaskScheduler.Default);
    }

    public int Port { get; private init; }

    public string HostPort => $"127.0.0.1:{Port}";

    public string Text
    {
        get
        {
            lock (_all)
            {
                return _all.ToString();
            }
        }
    }

    /// <param name="program">The orchestrator to start: null, this build's orchestrator.dll; else an installed tool's command.</param>
    /// <param name="seeds">The seed list; null for a node that finds its cluster another way (<paramref name="more"/> says how).</param>
    public static NodeProcess StartNode(int port, string? seeds, string journalFile, string? secret = null, string? config = null, string? hideDirectory = null, IEnumerable<string>? more = null, string? program = null)
    {
        List<string> args = ["node", "--port", port.ToString(), .. seeds is null ? Array.Empty<string>() : ["--seeds", seeds], "--journal", $"sqlite:{journalFile}", .. more ?? []];
        if (config is not null)
        {
            args.AddRange(["--config", config]);
        }
        var environment = secret is null ? null : new Dictionary<string, string> { ["ORCHESTRATOR_SECRET"] = secret };
        return new NodeProcess(Launch(args, environment, hideDirectory, program)) { Port = port };
    }

    /// <param name="environment">Variables set for the client (its ORCHESTRATOR_SECRET, for one); the test's own one is never passed on.</param>
    public static NodeProcess StartClient(IEnumerable<string> args, string? program = null, IReadOnlyDictionary<string, string>? environment = null) =>
        new(Launch(args, environment, null, program));

    /// <summary>SIGTERM, as a service manager or <c>docker stop</c> sends it.</summary>
    public void Terminate()
    {
        using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    /// <summary>A port free right now on 127.0.0.1.</summary>
    /// <summary>
    /// A port free now and never handed out before in this test run: the kernel may give a just-closed
    /// ephemeral port again at once, and two nodes of one cluster once got the same one.
    /// </summary>
    public static int FreePort()
    {
        lock (HandedOut)
        {
            while (true)
            {
                using var listener = new TcpListener(IPAddress.Loopback, 0);
                listener.Start();
                var port = ((IPEndPoint)listener.LocalEndpoint).Port;
                if (HandedOut.Add(port))
                {
                    return port;
                }
            }
        }
    }

    public async Task<string> WaitForLineAsync(Func<string, bool> match, TimeSpan? within = null)
    {
        using var timeout = new CancellationTokenSource(within ?? CliProcess.Limit);
        try
        {
            await foreach (var line in _lines.Reader.ReadAllAsync(timeout.Token))
            {
                if (match(line))
                {
                    return line;
                }
            }
        }
        catch (OperationCanceledException)
        {
            throw new Xunit.Sdk.XunitException($"no expected line within {(within ?? CliProcess.Limit).TotalSeconds:0} s; output so far:\n{Text}");
        }
        throw new Xunit.Sdk.XunitException($"process ended before the expected line; output:\n{Text}");
    }

    /// <summary>Waits until every fragment has appeared in some line, in any order.</summary>
    public async Task WaitForAllAsync(IEnumerable<string> fragments, TimeSpan? within = null)
    {
        var missing = fragments.ToHashSet();
        while (missing.Count > 0)
        {
            var line = await WaitForLineAsync(l => missing.Any(f => l.Contains(f, StringComparison.Ordinal)), within);
            missing.RemoveWhere(f => line.Contains(f, StringComparison.Ordinal));
        }
    }

    public void KillHard() => _process.Kill(entireProcessTree: true);

    public Task ExitedAsync() => _process.WaitForExitAsync();

    public int WaitForExit(TimeSpan within)
    {
        if (!_process.WaitForExit(within))
        {
            throw new Xunit.Sdk.XunitException($"process did not exit within {within.TotalSeconds:0} s; output:\n{Text}");
        }
        Task.WaitAll(_pumps, within);
        return _process.ExitCode;
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }
        _process.Dispose();
    }

    // hideDirectory: the node runs in its own mount namespace with an empty tmpfs over that directory, as a
    // machine would that lacks the shared volume.
    private static Process Launch(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment, string? hideDirectory, string? program)
    {
        var dll = OrchestratorProgram.Dll;
        ProcessStartInfo start;
        if (program is not null)
        {
            start = new ProcessStartInfo(program);
            start.Environment["DOTNET_ROOT"] = PackagedOrchestrator.DotnetRoot;
            foreach (var arg in args)
            {
                start.ArgumentList.Add(arg);
            }
        }
        else if (hideDirectory is null)
        {
            start = new ProcessStartInfo("dotnet");
            start.ArgumentList.Add(dll);
            foreach (var arg in args)
            {
                start.ArgumentList.Add(arg);
            }
        }
        else
        {
            start = new ProcessStartInfo("unshare");
            foreach (var arg in new[] { "--mount", "--", "sh", "-c", "mount -t tmpfs tmpfs \"$0\" && exec \"$@\"", hideDirectory, "dotnet", dll })
            {
                start.ArgumentList.Add(arg);
            }
            foreach (var arg in args)
            {
                start.ArgumentList.Add(arg);
            }
        }
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.Environment.Remove("ORCHESTRATOR_KILL_AT");
        start.Environment.Remove("ORCHESTRATOR_SECRET");
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }
        return Process.Start(start)!;
    }

    private Task Pump(StreamReader reader) => Task.Run(async () =>
    {
        while (await reader.ReadLineAsync() is { } line)
        {
            lock (_all)
            {
                _all.AppendLine(line);
            }
            await _lines.Writer.WriteAsync(line);
        }
    });
}
