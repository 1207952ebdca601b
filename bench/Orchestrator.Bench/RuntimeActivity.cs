namespace Orchestrator.Bench;

/// <summary>
/// What the .NET runtime itself did while steps were timed: JIT time, garbage-collector pauses (they stop
/// every managed thread, the rank's included), collections and bytes allocated. Taken at both ends of a
/// timed window, so a slow sample can be told apart from a slow machine.
/// </summary>
internal sealed record RuntimeActivity(TimeSpan Jit, TimeSpan GcPause, int Collections, long AllocatedBytes)
{
    public static RuntimeActivity Now() => new(
        System.Runtime.JitInfo.GetCompilationTime(), GC.GetTotalPauseDuration(), GC.CollectionCount(0), GC.GetTotalAllocatedBytes());

    public RuntimeActivity Since(RuntimeActivity start) =>
        new(Jit - start.Jit, GcPause - start.GcPause, Collections - start.Collections, AllocatedBytes - start.AllocatedBytes);

    /// <summary>For the log: the window's JIT and GC totals, and its allocation per step of <paramref name="steps"/>.</summary>
    public string Described(long steps) =>
        $"JIT {Jit.TotalMilliseconds:0.0} ms, GC {Collections} collection(s) pausing {GcPause.TotalMilliseconds:0.0} ms, {AllocatedBytes / (double)steps / 1024:0.0} KiB allocated a step";
}
