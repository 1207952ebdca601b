namespace Orchestrator.Bench;

/// <summary>
/// Which CPU the thread that takes the steps was last on, from /proc: the bare loop's own thread, or a rank's
/// dedicated thread found by its name. A busy thread seldom moves, so a sample's two ends tell where it ran;
/// on a VM whose two vCPUs need not run at one speed, that is what a slow sample is first checked against.
/// </summary>
internal static class SteppingCpu
{
    /// <summary>The CPU of the calling thread, or -1 where /proc does not tell.</summary>
    public static int OfThisThread() => ProcessorIn("/proc/thread-self/stat");

    /// <summary>The CPU of this process's thread named <paramref name="name"/> (as Linux keeps it, at most 15 characters), or -1.</summary>
    public static int OfThread(string name)
    {
        try
        {
            foreach (var task in Directory.EnumerateDirectories("/proc/self/task"))
            {
                if (File.ReadAllText(Path.Combine(task, "comm")).TrimEnd('\n') == name)
                {
                    return ProcessorIn(Path.Combine(task, "stat"));
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // no /proc here, or the thread ended while the folder was read
        }
        return -1;
    }

    private static int ProcessorIn(string statPath)
    {
        try
        {
            // pid (comm) state ppid ...: the comm may hold spaces, so fields count from its closing parenthesis;
            // the processor is field 39, the 37th after it.
            var stat = File.ReadAllText(statPath);
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return int.Parse(fields[36], System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException or ArgumentOutOfRangeException)
        {
            return -1;
        }
    }
}
