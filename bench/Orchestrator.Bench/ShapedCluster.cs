using System.Diagnostics;
using Orchestrator.Trainer.Metrics;

namespace Orchestrator.Bench;

/// <summary>Which way a shaped cluster averages its gradients (<c>orchestrator.cluster.gradient-collective</c>).</summary>
internal enum ShapedCollective
{
    Hub,
    Ring,
}

/// <summary>
/// R <c>orchestrator node</c> processes, one in each namespace of a <see cref="ShapedNetwork"/>, that average
/// gradients one way; jobs submitted to them are timed step by step from the job's TensorBoard log, and the
/// nodes' CPU time is read over the same steps.
/// </summary>
internal sealed class ShapedCluster : IDisposable
{
    private const int Port = 4053;
    private static readonly TimeSpan JobLimit = TimeSpan.FromMinutes(10);
    private readonly List<NamespacedProcess> _nodes = [];
    private readonly string _directory;
    private readonly string _secret = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
    private readonly int _world;
    private readonly ShapedCollective _collective;

    public ShapedCluster(int world, ShapedCollective collective, string scratch)
    {
        (_world, _collective) = (world, collective);
        _directory = Directory.CreateDirectory(Path.Combine(scratch, $"shaped-{collective}-{world}-{Guid.NewGuid():N}")).FullName;
        var config = Path.Combine(_directory, "collective.hocon");
        File.WriteAllText(config, $"orchestrator.cluster.gradient-collective = {collective.ToString().ToLowerInvariant()}\n");
        try
        {
            for (var i = 0; i < world; i++)
            {
                _nodes.Add(NamespacedProcess.Orchestrator(ShapedNetwork.Namespace(i), _secret,
                    ["node", "--hostname", ShapedNetwork.Address(i), "--port", $"{Port}", "--seeds", Seed, "--journal", $"sqlite:{Path.Combine(_directory, "journal.db")}", "--config", config]));
            }
            for (var i = 0; i < world; i++)
            {
                _nodes[0].WaitFor($"node {ShapedNetwork.Address(i)}:{Port} joined");
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    private static string Seed => $"{ShapedNetwork.Address(0)}:{Port}";

    /// <summary>The mean step of <paramref name="measured"/> steps after <paramref name="warmUp"/>, and the nodes' CPU per step.</summary>
    public ShapedTiming Step(ModelSize size, int warmUp, int measured)
    {
        var workDir = Path.Combine(_directory, $"job-{Guid.NewGuid():N}");
        var options = size.Options;
        using var submit = NamespacedProcess.Orchestrator(ShapedNetwork.Namespace(0), _secret,
        [
            "submit", "--cluster", Seed, "--job", "mlp", "--work-dir", workDir, "--ranks", $"{_world}", "--threads", "1",
            "--steps", $"{warmUp + measured}", "--width", $"{options.Width}", "--samples", $"{options.Samples}",
            "--batch-size", $"{options.BatchSize * _world}", "--seed", $"{options.Seed}", "--checkpoint-every", "1000000", "--no-save-last", "--wait",
        ]);
        // The nodes' CPU is read when the log shows the first and the last timed step, as the job runs.
        var log = TensorBoardLog.DirectoryIn(workDir);
        var ids = _nodes.Select(n => n.Id).ToList();
        var stepsAt = new Dictionary<long, double>();
        var offsets = new Dictionary<string, long>();
        CpuTime? first = null, last = null;
        var clock = Stopwatch.StartNew();
        while (last is null)
        {
            if (submit.WaitForExit(TimeSpan.FromMilliseconds(50)) && submit.ExitCode != 0 || clock.Elapsed > JobLimit)
            {
                throw new InvalidOperationException($"the {_collective} job at R={_world} did not complete: {submit.Output}\n--- seed node:\n{_nodes[0].Output}");
            }
            foreach (var (step, wallTime) in NewSteps(log, offsets))
            {
                stepsAt[step] = wallTime;
                if (step == warmUp)
                {
                    first = CpuTime.Now(ids);
                }
                else if (step == warmUp + measured && first is not null)
                {
                    last = CpuTime.Now(ids);
                }
            }
            if (submit.WaitForExit(TimeSpan.Zero) && last is null && stepsAt.ContainsKey(warmUp + measured))
            {
                throw new InvalidOperationException($"the {_collective} job at R={_world} ended before its CPU could be read over the timed steps");
            }
        }
        if (!submit.WaitForExit(JobLimit) || submit.ExitCode != 0)
        {
            throw new InvalidOperationException($"the {_collective} job at R={_world} did not complete: {submit.Output}\n--- seed node:\n{_nodes[0].Output}");
        }
        return new ShapedTiming((stepsAt[warmUp + measured] - stepsAt[warmUp]) / measured, last.Since(first!).Per(measured));
    }

    private static IEnumerable<(long Step, double WallTime)> NewSteps(string log, Dictionary<string, long> offsets)
    {
        if (!Directory.Exists(log))
        {
            yield break;
        }
        foreach (var file in Directory.GetFiles(log, TensorBoardFiles.FilePattern).Order(StringComparer.Ordinal))
        {
            var (events, end) = TensorBoardFiles.ReadFrom(file, offsets.GetValueOrDefault(file));
            offsets[file] = end;
            foreach (var e in events.Where(e => e.Summary?.Value.Any(v => v.Tag == TensorBoardLog.LossTag) == true))
            {
                yield return (e.Step, e.WallTime);
            }
        }
    }

    public void Dispose()
    {
        foreach (var node in _nodes)
        {
            node.Dispose();
        }
        Directory.Delete(_directory, recursive: true);
    }
}
