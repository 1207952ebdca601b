using System.Diagnostics;
using System.Globalization;

namespace Orchestrator.Bench;

/// <summary>A measured round or step: its wall time and the CPU time spent over it, both per round.</summary>
internal sealed record ShapedTiming(double Seconds, CpuTime Cpu)
{
    /// <summary>The processes' CPU seconds per round over its wall time: how many cores they kept busy.</summary>
    public double ProcessCores => Cpu.Process / Seconds;
}

/// <summary>
/// The parts of a shaped step, each taken alone by R processes of this benchmark (<see cref="ShapedPeer"/>),
/// one in each namespace of the network: a plain TCP copy around the ring (the calibration), the ring
/// all-reduce alone, and the model's step alone.
/// </summary>
internal static class ShapedParts
{
    /// <summary>Seconds per round of the slowest process (every round is the same work for all), and CPU per round.</summary>
    public static ShapedTiming Run(ShapedPeerWork work, int world, long size, int warmUp, int measured)
    {
        var peers = new List<NamespacedProcess>();
        try
        {
            for (var rank = 0; rank < world; rank++)
            {
                peers.Add(NamespacedProcess.Benchmark(ShapedNetwork.Namespace(rank),
                    ShapedPeer.Arguments(work, rank, world, ShapedNetwork.Address(rank), size, warmUp, measured)));
            }
            if (work != ShapedPeerWork.Compute)
            {
                var endpoints = peers.Select(p => p.LineAfter("listening ")).ToList();
                for (var rank = 0; rank < world; rank++)
                {
                    peers[rank].Tell($"next {endpoints[(rank + 1) % world]}");
                }
            }
            peers.ForEach(p => p.LineAfter("ready"));
            var ids = peers.Select(p => p.Id).ToList();
            var start = CpuTime.Now(ids);
            peers.ForEach(p => p.Tell("go"));
            var seconds = peers.Select(p => double.Parse(p.LineAfter("done "), CultureInfo.InvariantCulture)).Max();
            var cpu = CpuTime.Now(ids).Since(start);
            peers.ForEach(p => p.Tell("end"));
            foreach (var peer in peers)
            {
                if (!peer.WaitForExit(TimeSpan.FromSeconds(30)) || peer.ExitCode != 0)
                {
                    throw new InvalidOperationException($"a {work} peer did not end well: {peer.Output}");
                }
            }
            return new ShapedTiming(seconds / measured, cpu.Per(measured));
        }
        finally
        {
            peers.ForEach(p => p.Dispose());
        }
    }
}
