using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Orchestrator.Trainer.Metrics;

namespace Orchestrator.Bench;

/// <summary>
/// Overhead across processes: a two-rank job on two <c>orchestrator node</c> processes on 127.0.0.1 (one
/// rank each, one SQLite journal, the work dir on the same disk), submitted with <c>orchestrator submit</c>,
/// against the bare loop. Steps per second come from the job's own TensorBoard wall times, after the same
/// warm-up as the bare loop, so node start-up, job placement and replica building are left out.
/// </summary>
internal static class ClusterBenchmark
{
    public static Row Run(ModelSize size, int warmUpSteps, int steps, int repetitions, int threads, string scratch)
    {
        var directory = Directory.CreateDirectory(Path.Combine(scratch, $"cluster-{Guid.NewGuid():N}")).FullName;
        var journal = $"sqlite:{Path.Combine(directory, "journal.db")}";
        // Nodes refuse to start without a cluster secret; the benchmark's nodes and client share a fresh one.
        var secret = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
        var seedPort = FreePort();
        var seeds = $"127.0.0.1:{seedPort}";
        using var seed = new Node(["node", "--port", seedPort.ToString(), "--seeds", seeds, "--journal", journal], secret);
        seed.WaitFor($"node {seeds} joined");
        var secondPort = FreePort();
        using var second = new Node(["node", "--port", secondPort.ToString(), "--seeds", seeds, "--journal", journal], secret);
        seed.WaitFor($"node 127.0.0.1:{secondPort} joined");

        double Job(int warmUp, int measured)
        {
            var workDir = Path.Combine(directory, $"job-{Guid.NewGuid():N}");
            var options = size.Options;
            var start = OrchestratorCommand.BuildOutput(
            [
                "submit", "--cluster", seeds, "--job", "mlp", "--work-dir", workDir, "--ranks", "2", "--threads", threads.ToString(),
                "--steps", (warmUp + measured).ToString(), "--width", $"{options.Width}", "--samples", $"{options.Samples}",
                "--batch-size", $"{options.BatchSize}", "--seed", $"{options.Seed}", "--checkpoint-every", "1000000", "--no-save-last", "--wait",
            ]);
            start.Environment["ORCHESTRATOR_SECRET"] = secret;
            using var submit = Process.Start(start)!;
            var output = submit.StandardOutput.ReadToEndAsync();
            var errors = submit.StandardError.ReadToEnd();
            submit.WaitForExit();
            if (submit.ExitCode != 0)
            {
                throw new InvalidOperationException($"the cluster job did not complete (submit exited {submit.ExitCode}): {errors}{output.Result}");
            }
            var stepsAt = TensorBoardFiles.ReadAll(TensorBoardLog.DirectoryIn(workDir))
                .Where(e => e.Summary?.Value.Any(v => v.Tag == TensorBoardLog.LossTag) == true)
                .ToDictionary(e => e.Step, e => e.WallTime);
            Directory.Delete(workDir, recursive: true);
            return measured / (stepsAt[warmUp + measured] - stepsAt[warmUp]);
        }

        // As in the other overhead rows: one discarded round of each, then they take turns.
        OverheadBenchmark.BareLoop(size, 3, Math.Min(steps, 200), threads);
        Job(3, Math.Min(steps, 200));
        var taken = Measurement.InTurns(repetitions,
            () => OverheadBenchmark.BareLoop(size, warmUpSteps, steps, threads),
            () => SideBySideLoops.Run(size, 2, warmUpSteps, steps, threads),
            () => Job(warmUpSteps, steps));
        var (bare, sideBySide, cluster) = (taken[0], taken[1], taken[2]);
        Directory.Delete(directory, recursive: true);
        return new Row($"Orchestration overhead, {size.Name}, R=2 on two nodes", "steps/s", cluster, bare, "bare TorchSharp loop", null, true,
            SideBySideLoops.Described(2, sideBySide, bare, cluster)
            + ". Two node processes on 127.0.0.1, one rank each: rank 1's step start, gradients, averages and step end cross the gradient link, each a hand-off to a socket thread and back at both ends; the processes share the 2 cores",
            sideBySide, SideBySideLoops.ReferenceName, Paired: true);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>A node process whose output is kept, to wait for a line and to explain a failure.</summary>
    private sealed class Node : IDisposable
    {
        private static readonly TimeSpan Limit = TimeSpan.FromMinutes(2);
        private readonly Process _process;
        private readonly StringBuilder _output = new();

        public Node(IEnumerable<string> args, string secret)
        {
            var start = OrchestratorCommand.BuildOutput(args);
            start.Environment["ORCHESTRATOR_SECRET"] = secret;
            _process = Process.Start(start)!;
            _process.OutputDataReceived += (_, e) => Append(e.Data);
            _process.ErrorDataReceived += (_, e) => Append(e.Data);
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
        }

        public void WaitFor(string text)
        {
            var clock = Stopwatch.StartNew();
            lock (_output)
            {
                while (!_output.ToString().Contains(text, StringComparison.Ordinal))
                {
                    if (_process.HasExited || clock.Elapsed > Limit)
                    {
                        throw new InvalidOperationException($"no '{text}' from the node within {Limit.TotalMinutes} min; it printed: {_output}");
                    }
                    Monitor.Wait(_output, TimeSpan.FromSeconds(1));
                }
            }
        }

        public void Dispose()
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
            _process.Dispose();
        }

        private void Append(string? line)
        {
            if (line is null)
            {
                return;
            }
            lock (_output)
            {
                _output.AppendLine(line);
                Monitor.PulseAll(_output);
            }
        }
    }
}
