using System.Globalization;

namespace Orchestrator.Bench;

/// <summary>
/// CPU time over a window, from /proc: of given processes (user and kernel, their threads together) and of the
/// whole machine (busy, of which the kernel's softirq, where the network stack's receive and forward work
/// runs). In seconds; zero where /proc does not tell. Linux's clock tick is 1/100 s.
/// </summary>
internal sealed record CpuTime(double ProcessUser, double ProcessKernel, double MachineBusy, double MachineSoftIrq, double MachineAll)
{
    private const double Tick = 0.01;

    public static CpuTime Now(IEnumerable<int> processes)
    {
        var (user, kernel) = (0L, 0L);
        foreach (var id in processes)
        {
            var (u, k) = OfProcess(id);
            (user, kernel) = (user + u, kernel + k);
        }
        var machine = Machine();
        return new(user * Tick, kernel * Tick, machine.Busy * Tick, machine.SoftIrq * Tick, machine.All * Tick);
    }

    public CpuTime Since(CpuTime start) => new(ProcessUser - start.ProcessUser, ProcessKernel - start.ProcessKernel,
        MachineBusy - start.MachineBusy, MachineSoftIrq - start.MachineSoftIrq, MachineAll - start.MachineAll);

    public CpuTime Per(int count) => new(ProcessUser / count, ProcessKernel / count, MachineBusy / count, MachineSoftIrq / count, MachineAll / count);

    /// <summary>The processes' CPU seconds, user and kernel together.</summary>
    public double Process => ProcessUser + ProcessKernel;

    /// <summary>How many of the machine's cores were busy on average over the window (anyone's work).</summary>
    public double BusyCores => MachineAll <= 0 ? 0 : Environment.ProcessorCount * MachineBusy / MachineAll;

    /// <summary>utime and stime, fields 14 and 15 of /proc/PID/stat, counted after the command's closing parenthesis.</summary>
    private static (long User, long Kernel) OfProcess(int id)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{id}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return (long.Parse(fields[11], CultureInfo.InvariantCulture), long.Parse(fields[12], CultureInfo.InvariantCulture));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException or ArgumentOutOfRangeException)
        {
            return (0, 0); // ended, or not Linux
        }
    }

    private static (long Busy, long SoftIrq, long All) Machine()
    {
        try
        {
            // cpu user nice system idle iowait irq softirq steal: guest time is already inside user.
            var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Take(8)
                .Select(f => long.Parse(f, CultureInfo.InvariantCulture)).ToArray();
            var all = fields.Sum();
            return (all - fields[3] - fields[4] - fields[7], fields[6], all);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException or InvalidOperationException)
        {
            return (0, 0, 0);
        }
    }
}
