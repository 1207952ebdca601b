namespace Orchestrator.Bench;

/// <summary>
/// What the .NET runtime itself did while steps were timed: JIT time, garbage-collector pauses (they stop
/// every managed thread, the rank's included), collections and bytes allocated; and the CPU this process and
/// the whole machine used, and the time the hypervisor stole. Taken at both ends of a timed window, so a slow
/// sample can be told apart from a slow machine: a sample that used a core but ran slowly was computing
/// slowly, one that used little of it was waiting.
/// </summary>
internal sealed record RuntimeActivity(TimeSpan Jit, TimeSpan GcPause, int Collections, long AllocatedBytes, TimeSpan ProcessCpu, MachineTicks Machine)
{
    public static RuntimeActivity Now() => new(
        System.Runtime.JitInfo.GetCompilationTime(), GC.GetTotalPauseDuration(), GC.CollectionCount(0), GC.GetTotalAllocatedBytes(),
        Environment.CpuUsage.TotalTime, MachineTicks.Now());

    public RuntimeActivity Since(RuntimeActivity start) =>
        new(Jit - start.Jit, GcPause - start.GcPause, Collections - start.Collections, AllocatedBytes - start.AllocatedBytes,
            ProcessCpu - start.ProcessCpu, Machine.Since(start.Machine));

    /// <summary>For the log: the window's JIT and GC totals, its allocation per step of <paramref name="steps"/>, and its CPU over <paramref name="duration"/>.</summary>
    public string Described(long steps, TimeSpan duration) =>
        $"JIT {Jit.TotalMilliseconds:0.0} ms, GC {Collections} collection(s) pausing {GcPause.TotalMilliseconds:0.0} ms, {AllocatedBytes / (double)steps / 1024:0.0} KiB allocated a step, "
        + $"this process {ProcessCpu / duration:0.00} cores, {Machine.Described()}";
}
