using System.Runtime.InteropServices;

namespace Orchestrator.Bench;

/// <summary>
/// Hub against ring on links of a known speed: R processes, each in a network namespace of its own joined to
/// one bridge by a shaped veth pair (<see cref="ShapedNetwork"/>), at each link rate. Per world size and rate
/// it takes the step's parts alone and then whole: a plain TCP copy around the ring (what the links carry),
/// the ring all-reduce alone, the model step alone (R processes side by side), and the job's step on R
/// <c>orchestrator node</c> processes through the hub and through the ring, set against the ring's bandwidth
/// bound 2(R−1)M/(R·B). Needs root (ip, tc). BENCH_ONLY=shaped; writes shaped.png beside its table.
/// </summary>
internal static class ShapedRingBenchmark
{
    public static readonly double[] Rates = [1e9, 10e9];

    /// <summary>Untimed and timed rounds of each part and of the whole step.</summary>
    internal sealed record Rounds(int WarmUp, int Measured);

    public static IEnumerable<Row> Run(ModelSize size, int[] worlds, Rounds parts, Rounds steps, string scratch, string outDir)
    {
        // A stopped benchmark (Ctrl-C, kill, a closed terminal) runs no finally: its processes and network go here.
        var signals = new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGHUP }
            .Select(signal => PosixSignalRegistration.Create(signal, _ => Teardown())).ToList();
        try
        {
            var points = new List<ShapedPoint>();
            foreach (var world in worlds)
            {
                points.AddRange(Measure(size, world, parts, steps, scratch));
            }
            ShapedPlot.Save(points, size, Path.Combine(outDir, "shaped.png"));
            return Rates.SelectMany(rate => points.Where(p => p.BitsPerSecond == rate).SelectMany(p => Rows(size, p))).ToList();
        }
        finally
        {
            signals.ForEach(s => s.Dispose());
        }
    }

    private static void Teardown()
    {
        NamespacedProcess.KillAll();
        ShapedNetwork.RemoveAll();
    }

    private static List<ShapedPoint> Measure(ModelSize size, int world, Rounds parts, Rounds steps, string scratch)
    {
        var gradientBytes = size.ParameterBytes;
        using var network = ShapedNetwork.Create(world, Rates[0]);
        Console.Error.WriteLine($"  R={world}: model step alone ...");
        var compute = ShapedParts.Run(ShapedPeerWork.Compute, world, size.Width, parts.WarmUp, parts.Measured);
        var copies = new Dictionary<double, ShapedTiming>();
        var collectives = new Dictionary<double, ShapedTiming>();
        foreach (var rate in Rates)
        {
            network.Shape(rate);
            Console.Error.WriteLine($"  R={world}, {ShapedNetwork.Described(rate)}: plain copy, then the ring all-reduce alone ...");
            copies[rate] = ShapedParts.Run(ShapedPeerWork.Copy, world, 2L * (world - 1) * gradientBytes / world, 1, parts.Measured);
            collectives[rate] = ShapedParts.Run(ShapedPeerWork.Ring, world, gradientBytes / sizeof(float), parts.WarmUp, parts.Measured);
        }
        var whole = new Dictionary<(ShapedCollective, double), ShapedTiming>();
        foreach (var collective in new[] { ShapedCollective.Hub, ShapedCollective.Ring })
        {
            Console.Error.WriteLine($"  R={world}: {world} nodes, {collective} ...");
            using var cluster = new ShapedCluster(world, collective, scratch);
            foreach (var rate in Rates)
            {
                network.Shape(rate);
                whole[(collective, rate)] = cluster.Step(size, steps.WarmUp, steps.Measured);
            }
        }
        return Rates.Select(rate => new ShapedPoint(world, rate, gradientBytes, copies[rate], collectives[rate], compute,
            whole[(ShapedCollective.Hub, rate)], whole[(ShapedCollective.Ring, rate)])).ToList();
    }

    private static IEnumerable<Row> Rows(ModelSize size, ShapedPoint p)
    {
        var links = $"{ShapedNetwork.Described(p.BitsPerSecond)} links";
        var where = $"R={p.World} in {p.World} namespaces";
        const string boundName = "bandwidth bound of a ring all-reduce, 2(R-1)M/(R·B)";
        var bound = One(p.Bound);
        yield return new Row($"Calibration: plain TCP copy around {p.World} namespaces at once, {links}", "Gbit/s", One(p.AchievedBitsPerSecond / 1e9),
            One(p.BitsPerSecond / 1e9), "rate set with tc tbf", null, true, ShapedLimits.Copy(p));
        if (p.BitsPerSecond == Rates[0])
        {
            yield return new Row($"Model step alone, {size.Name}, {p.World} processes side by side, no synchronisation", "s/step", One(p.Compute.Seconds),
                null, "", null, false, ShapedLimits.Compute(p));
        }
        yield return new Row($"Ring all-reduce alone, {size.Name}, {where}, {links}", "s", One(p.Collective.Seconds), bound, boundName, null, false,
            ShapedLimits.Collective(p));
        yield return new Row($"Gradient step on {links}, {size.Name}, {where}, hub", "s/step", One(p.Hub.Seconds), bound, boundName, null, false,
            ShapedLimits.Hub(p));
        yield return new Row($"Gradient step on {links}, {size.Name}, {where}, ring", "s/step", One(p.Ring.Seconds), bound, boundName, 1.25, false,
            ShapedLimits.Ring(p), One(p.Collective.Seconds + p.Compute.Seconds), "ring all-reduce alone plus model step alone, on the same links and cores");
    }

    private static Measurement One(double value) => new([value]);
}
