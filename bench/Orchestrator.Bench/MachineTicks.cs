namespace Orchestrator.Bench;

/// <summary>The machine's CPU time from /proc/stat's first line, in clock ticks: busy, stolen by the hypervisor, and all.</summary>
internal sealed record MachineTicks(long Busy, long Steal, long Total)
{
    public static MachineTicks Now()
    {
        try
        {
            // cpu user nice system idle iowait irq softirq steal guest guest_nice
            var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Take(8).Select(long.Parse).ToArray();
            var idle = fields[3] + fields[4];
            return new(fields.Sum() - idle - fields[7], fields[7], fields.Sum());
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException or InvalidOperationException)
        {
            return new(0, 0, 0); // not Linux: the log leaves the machine's share out
        }
    }

    public MachineTicks Since(MachineTicks start) => new(Busy - start.Busy, Steal - start.Steal, Total - start.Total);

    public string Described() => Total <= 0
        ? "machine CPU unknown"
        : $"machine {Environment.ProcessorCount * Busy / (double)Total:0.00} of {Environment.ProcessorCount} cores busy, {100.0 * Steal / Total:0.0}% stolen";
}
