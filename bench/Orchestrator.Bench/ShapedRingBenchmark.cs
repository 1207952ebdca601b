using System.Diagnostics;
using System.Text;
using Orchestrator.Trainer.Metrics;

namespace Orchestrator.Bench;

/// <summary>
/// Hub against ring on links of a known speed: R <c>orchestrator node</c> processes, each in a network
/// namespace of its own, joined by veth pairs to one bridge, every veth shaped to 1 Gbit/s each way with
/// <c>tc tbf</c>; one rank per node, a model whose gradients are large next to its compute. A step's time is
/// set against the bandwidth bound of a ring all-reduce, 2(R−1)M/(R·B). Needs root (ip, tc); every
/// namespace, veth and the bridge are this benchmark's own (names starting orring/orv/orbr, addresses
/// 10.77.0.0/24) and are removed at the end, also when a run fails. BENCH_ONLY=shaped.
/// </summary>
internal static class ShapedRingBenchmark
{
    private const string Bridge = "orbr0";
    private const double LinkBitsPerSecond = 1e9;
    private const int Port = 4053;

    public static IEnumerable<Row> Run(ModelSize size, int[] worlds, int warmUp, int measured, string scratch)
    {
        var rows = new List<Row>();
        var gradientBytes = size.ParameterBytes;
        foreach (var world in worlds)
        {
            var bound = 2.0 * (world - 1) * gradientBytes * 8 / (world * LinkBitsPerSecond);
            foreach (var collective in new[] { "hub", "ring" })
            {
                var seconds = StepSeconds(size, world, collective, warmUp, measured, scratch);
                rows.Add(new Row($"Gradient step on 1 Gbit/s links, {size.Name}, R={world} in {world} namespaces, {collective}", "s/step",
                    new Measurement([seconds]), new Measurement([bound]), "bandwidth bound of a ring all-reduce, 2(R-1)M/(R·B)",
                    collective == "ring" ? 1.25 : null, false,
                    collective == "ring"
                        ? "each rank sends 2(R-1)/R of the gradients to its next neighbour over its own 1 Gbit/s veth, in 4 MiB buckets that overlap summing; the R processes share the machine's cores for compute and summing"
                        : "every remote rank's gradients cross the supervisor's node's one 1 Gbit/s link and come back averaged: (R-1) times the gradients each way through one link"));
            }
        }
        return rows;
    }

    private static double StepSeconds(ModelSize size, int world, string collective, int warmUp, int measured, string scratch)
    {
        var directory = Directory.CreateDirectory(Path.Combine(scratch, $"shaped-{collective}-{world}-{Guid.NewGuid():N}")).FullName;
        var config = Path.Combine(directory, "collective.hocon");
        File.WriteAllText(config, $"orchestrator.cluster.gradient-collective = {collective}\n");
        var secret = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
        var nodes = new List<NamespacedProcess>();
        using var network = ShapedNetwork.Create(world);
        try
        {
            var seed = $"{network.Address(0)}:{Port}";
            for (var i = 0; i < world; i++)
            {
                nodes.Add(new NamespacedProcess(network.Namespace(i), secret,
                    ["node", "--hostname", network.Address(i), "--port", $"{Port}", "--seeds", seed, "--journal", $"sqlite:{Path.Combine(directory, "journal.db")}", "--config", config]));
            }
            for (var i = 0; i < world; i++)
            {
                nodes[0].WaitFor($"node {network.Address(i)}:{Port} joined");
            }
            var workDir = Path.Combine(directory, "job");
            var options = size.Options;
            using var submit = new NamespacedProcess(network.Namespace(0), secret,
            [
                "submit", "--cluster", seed, "--job", "mlp", "--work-dir", workDir, "--ranks", $"{world}", "--threads", "1",
                "--steps", $"{warmUp + measured}", "--width", $"{options.Width}", "--samples", $"{options.Samples}",
                "--batch-size", $"{options.BatchSize * world}", "--seed", $"{options.Seed}", "--checkpoint-every", "1000000", "--no-save-last", "--wait",
            ]);
            if (!submit.WaitForExit(TimeSpan.FromMinutes(15)) || submit.ExitCode != 0)
            {
                throw new InvalidOperationException($"the {collective} job at R={world} did not complete: {submit.Output}\n--- seed node:\n{nodes[0].Output}");
            }
            var stepsAt = TensorBoardFiles.ReadAll(TensorBoardLog.DirectoryIn(workDir))
                .Where(e => e.Summary?.Value.Any(v => v.Tag == TensorBoardLog.LossTag) == true)
                .ToDictionary(e => e.Step, e => e.WallTime);
            return (stepsAt[warmUp + measured] - stepsAt[warmUp]) / measured;
        }
        finally
        {
            foreach (var node in nodes)
            {
                node.Dispose();
            }
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>The namespaces, veths and bridge of one run; all removed on dispose, whatever happened.</summary>
    private sealed class ShapedNetwork : IDisposable
    {
        private readonly int _world;

        private ShapedNetwork(int world) => _world = world;

        public static ShapedNetwork Create(int world)
        {
            var network = new ShapedNetwork(world);
            network.Dispose(); // what a killed earlier run may have left
            try
            {
                Ip("link add", Bridge, "type bridge");
                Ip("link set", Bridge, "up");
                for (var i = 0; i < world; i++)
                {
                    var (ns, host, inside) = (network.Namespace(i), $"orv{i}", $"orv{i}n");
                    Ip("netns add", ns);
                    Ip("link add", host, "type veth peer name", inside);
                    Ip("link set", inside, "netns", ns);
                    Ip("link set", host, "master", Bridge, "up");
                    Ip("netns exec", ns, "ip addr add", $"{network.Address(i)}/24", "dev", inside);
                    Ip("netns exec", ns, "ip link set", inside, "up");
                    Ip("netns exec", ns, "ip link set lo up");
                    // Both directions: out of the namespace on its side, into it on the bridge's side.
                    Run("tc", $"qdisc add dev {host} root tbf rate 1gbit burst 1mb latency 50ms");
                    Run("ip", $"netns exec {ns} tc qdisc add dev {inside} root tbf rate 1gbit burst 1mb latency 50ms");
                }
            }
            catch
            {
                network.Dispose();
                throw;
            }
            return network;
        }

        public string Namespace(int index) => $"orring{index}";

        public string Address(int index) => $"10.77.0.{index + 1}";

        public void Dispose()
        {
            for (var i = 0; i < Math.Max(_world, 16); i++)
            {
                Run("ip", $"netns del {Namespace(i)}", quiet: true); // removes the veth pair with it
                Run("ip", $"link del orv{i}", quiet: true);
            }
            Run("ip", $"link del {Bridge}", quiet: true);
        }

        private static void Ip(params string[] parts) => Run("ip", string.Join(' ', parts));

        private static void Run(string program, string arguments, bool quiet = false)
        {
            var start = new ProcessStartInfo(program, arguments) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
            using var process = Process.Start(start)!;
            var errors = process.StandardError.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0 && !quiet)
            {
                throw new InvalidOperationException($"{program} {arguments} failed ({process.ExitCode}): {errors.Trim()} (the shaped rows need root, ip and tc)");
            }
        }
    }

    /// <summary>The orchestrator program run inside a namespace, its output kept to wait for a line and explain a failure.</summary>
    private sealed class NamespacedProcess : IDisposable
    {
        private readonly Process _process;
        private readonly StringBuilder _output = new();

        public NamespacedProcess(string ns, string secret, IEnumerable<string> args)
        {
            var program = OrchestratorCommand.BuildOutput(args);
            var start = new ProcessStartInfo("ip") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
            foreach (var arg in (string[])["netns", "exec", ns, program.FileName, .. program.ArgumentList])
            {
                start.ArgumentList.Add(arg);
            }
            start.Environment["ORCHESTRATOR_SECRET"] = secret;
            _process = Process.Start(start)!;
            _process.OutputDataReceived += (_, e) => Append(e.Data);
            _process.ErrorDataReceived += (_, e) => Append(e.Data);
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
        }

        public string Output
        {
            get
            {
                lock (_output)
                {
                    return _output.ToString();
                }
            }
        }

        public int ExitCode => _process.ExitCode;

        public bool WaitForExit(TimeSpan limit) => _process.WaitForExit(limit);

        public void WaitFor(string text)
        {
            var clock = Stopwatch.StartNew();
            lock (_output)
            {
                while (!_output.ToString().Contains(text, StringComparison.Ordinal))
                {
                    if (_process.HasExited || clock.Elapsed > TimeSpan.FromMinutes(3))
                    {
                        throw new InvalidOperationException($"no '{text}' within 3 min; the node printed: {_output}");
                    }
                    Monitor.Wait(_output, TimeSpan.FromSeconds(1));
                }
            }
        }

        public void Dispose()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
            _process.WaitForExit();
            _process.Dispose();
        }

        private void Append(string? line)
        {
            lock (_output)
            {
                _output.AppendLine(line);
                Monitor.PulseAll(_output);
            }
        }
    }
}
