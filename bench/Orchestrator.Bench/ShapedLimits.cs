using System.Globalization;

namespace Orchestrator.Bench;

/// <summary>
/// Each shaped row's sentence on what limits it, built from that row's own parts as measured in the same run:
/// never a fixed text. "Saturated" means the machine's cores were at least <see cref="Saturated"/> busy on
/// average over the timed window (anyone's work: the machine may be shared).
/// </summary>
internal static class ShapedLimits
{
    /// <summary>Cores busy, as a share of all of them, from which the cores count as the limit.</summary>
    public const double Saturated = 0.9;

    public static string Copy(ShapedPoint p)
    {
        var share = p.AchievedBitsPerSecond / p.BitsPerSecond;
        var verdict = share >= 0.9 ? "the tbf shaping sets the rate"
            : IsSaturated(p.Copy) ? "the cores, not the shaping, cap it: every byte is copied by the kernel through two veths and the bridge on them"
            : "neither the shaping nor the cores are reached: these numbers do not tell what holds it back";
        return $"{p.World} copies at once, {Gbit(p.AchievedBitsPerSecond)} Gbit/s a link, {share:0.00} of the {ShapedNetwork.Described(p.BitsPerSecond)} set; {Cores(p.Copy)}: {verdict}";
    }

    public static string Collective(ShapedPoint p)
    {
        var ofCopy = p.Collective.Seconds / p.Copy.Seconds;
        return $"{S(p.Collective.Seconds)} s, {ofCopy:0.00} of the plain copy of the same bytes ({S(p.Copy.Seconds)} s at {Gbit(p.AchievedBitsPerSecond)} Gbit/s) "
            + $"and {p.Collective.Seconds / p.Bound:0.00} of the bound; {Cores(p.Collective)}: {CollectiveVerdict(p)}";
    }

    private static string CollectiveVerdict(ShapedPoint p) =>
        p.Collective.Seconds / p.Copy.Seconds > 1.1 ? CollectiveOverCopy(p)
        : p.AchievedBitsPerSecond >= 0.9 * p.BitsPerSecond ? "the links limit it: it moves its bytes at the rate the plain copy reaches"
        : "the cores limit it through the links: it moves its bytes at the rate the plain copy reaches, and the cores hold that copy below the rate set (its calibration row)";

    private static string CollectiveOverCopy(ShapedPoint p) =>
        IsSaturated(p.Collective) ? "the cores limit it: they are saturated by the summing, the copies into and out of the sockets and the kernel's forwarding"
        : "neither the links nor the cores are full: the rest is waiting, as each rank passes a segment on only once it has arrived and been summed";

    public static string Compute(ShapedPoint p)
    {
        var verdict = IsSaturated(p.Compute) ? $"the cores limit it: the {p.World} steps' {S(p.Compute.Cpu.Process)} core-s of work share {Environment.ProcessorCount} cores"
            : "one torch thread per process limits it: each step runs on one core and the cores are not full";
        return $"{p.World} processes side by side, one torch thread each; {Cores(p.Compute)}: {verdict}";
    }

    public static string Ring(ShapedPoint p)
    {
        var (step, collective, compute) = (p.Ring.Seconds, p.Collective.Seconds, p.Compute.Seconds);
        var rest = step - collective - compute;
        var parts = new (string What, double Seconds)[]
        {
            ($"the all-reduce's own excess over the bound ({S(collective - p.Bound)} s)", collective - p.Bound),
            ($"the model step, which the all-reduce does not overlap ({S(compute)} s)", compute),
            ($"the remainder, not measured alone: gradients copied out of and into the tensors, step start and end through the supervisor ({S(rest)} s)", rest),
        };
        var largest = parts.MaxBy(x => x.Seconds);
        return $"{S(step)} s a step, {step / p.Bound:0.00} of the bound ({S(p.Bound)} s; the plain copy moves the same bytes in {S(p.Copy.Seconds)} s at {Gbit(p.AchievedBitsPerSecond)} Gbit/s). "
            + $"Alone, the ring all-reduce takes {S(collective)} s ({CollectiveVerdict(p)}) and the model step {S(compute)} s, {(collective + compute) / step:0.00} of the step together; "
            + $"{Cores(p.Ring)}. Most of the {S(step - p.Bound)} s over the bound is {largest.What}";
    }

    public static string Hub(ShapedPoint p)
    {
        var (step, floor, compute) = (p.Hub.Seconds, p.HubFloor, p.Compute.Seconds);
        var rest = step - floor - compute;
        var parts = new (string What, double Seconds)[]
        {
            ($"the supervisor's node's one link, which (R-1) = {p.World - 1} ranks' gradients cross each way ({S(floor)} s at the rate set)", floor),
            ($"the model step ({S(compute)} s alone)", compute),
            ($"the remainder, not measured alone: the hub's averaging on one thread, gradients copied out of and into the tensors, step start and end ({S(rest)} s)", rest),
        };
        return $"{S(step)} s a step, {step / p.Bound:0.00} of the ring's bound; {Cores(p.Hub)}. Most of it is {parts.MaxBy(x => x.Seconds).What}";
    }

    private static bool IsSaturated(ShapedTiming t) => t.Cpu.BusyCores >= Saturated * Environment.ProcessorCount;

    private static string Cores(ShapedTiming t) =>
        $"its processes kept {t.ProcessCores:0.00} cores busy ({t.Cpu.ProcessUser / t.Seconds:0.00} user, {t.Cpu.ProcessKernel / t.Seconds:0.00} kernel), "
        + $"the machine {t.Cpu.BusyCores:0.00} of {Environment.ProcessorCount}{(IsSaturated(t) ? ", saturated" : "")} "
        + $"({Math.Max(0, t.Cpu.BusyCores - t.ProcessCores):0.00} of them not these processes': the kernel's softirq, {Environment.ProcessorCount * t.Cpu.MachineSoftIrq / Math.Max(t.Cpu.MachineAll, 1e-9):0.00}, and other programs)";

    private static string S(double seconds) => seconds.ToString(Math.Abs(seconds) >= 10 ? "0.0" : "0.000", CultureInfo.InvariantCulture);

    private static string Gbit(double bitsPerSecond) => (bitsPerSecond / 1e9).ToString("0.00", CultureInfo.InvariantCulture);
}
