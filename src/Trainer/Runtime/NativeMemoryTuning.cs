using System.Runtime.InteropServices;

namespace Orchestrator.Trainer.Runtime;

/// <summary>
/// Keeps tensor memory that training frees and allocates again every step from going back to the kernel.
/// With glibc's defaults, a step's temporaries are returned (trimmed or unmapped) when freed and faulted in
/// again, page by page, on the next step: measured on a 2-core VM, that was 80,000 page faults and 85% of
/// the time of a step of a 100 MB model. This raises glibc's mmap and trim thresholds, so freed memory
/// stays in the heap for the next step, pads the top of each heap so that a thread's arena never unmaps a
/// heap it emptied (<see cref="TopPadBytes"/>), and asks libtorch for transparent huge pages on large
/// tensors (its own THP_MEM_ALLOC_ENABLE), so what is still mapped per step faults in 2 MB at a time.
/// A user's own MALLOC_* variables, glibc malloc tunables, LD_PRELOADed allocator or THP_MEM_ALLOC_ENABLE
/// are left as they are. Call before the first tensor: libtorch reads its variable once.
/// </summary>
public static partial class NativeMemoryTuning
{
    /// <summary>glibc caps the mmap threshold at half its 64 MiB arena heap: larger requests are always mapped.</summary>
    public const int MmapThresholdBytes = 32 << 20;

    /// <summary>Freed memory a heap keeps at its top before giving it back; above any non-main arena heap.</summary>
    public const int TrimThresholdBytes = 256 << 20;

    /// <summary>
    /// The padding glibc keeps at the top of a heap. A thread other than the main one allocates from an
    /// arena of 64 MiB heaps, and glibc unmaps the arena's newest heap as soon as it is empty whatever the
    /// trim threshold, unless the heap below has less than this pad free: a thread whose steps spilled a few
    /// megabytes into a new heap got it mapped and unmapped every step. Seen on new threads (a rank's, and
    /// the benchmark's bare loop on one) that took over the arena of an ended thread: 380 to 470 page faults
    /// a step and half the speed of the same 1 MB loop on the main thread (bench/FINDINGS.md, 2026-12-07).
    /// A pad of a whole heap keeps every heap. It also makes the main heap grow 64 MiB at a time, in address
    /// space only: pages are faulted in as they are used.
    /// </summary>
    public const int TopPadBytes = 64 << 20;

    private const int MTrimThreshold = -1;
    private const int MTopPad = -2;
    private const int MMmapThreshold = -3;
    private const string HugePagesVariable = "THP_MEM_ALLOC_ENABLE";

    private static readonly Lock Gate = new();
    private static string? _summary;

    /// <summary>What was applied, in a few words, for benchmark reports and diagnostics.</summary>
    public static string Summary
    {
        get
        {
            Apply();
            return _summary!;
        }
    }

    /// <summary>Applies the settings once per process; later calls do nothing.</summary>
    public static void Apply()
    {
        lock (Gate)
        {
            if (_summary is not null)
            {
                return;
            }
            _summary = OperatingSystem.IsLinux() && GlibcVersion() is { } glibc
                ? string.Join("; ", Tune(Plan(Environment.GetEnvironmentVariables()), glibc))
                : "unchanged (not Linux with glibc)";
        }
    }

    /// <summary>Which of the two settings to make, given the process's environment: never over a user's own choice.</summary>
    public static (bool Malloc, bool HugePages) Plan(System.Collections.IDictionary environment)
    {
        string? Get(string name) => environment[name] as string;
        var userMalloc = environment.Keys.Cast<string>().Any(k => k.StartsWith("MALLOC_", StringComparison.Ordinal))
            || (Get("GLIBC_TUNABLES")?.Contains("glibc.malloc", StringComparison.Ordinal) ?? false)
            || !string.IsNullOrWhiteSpace(Get("LD_PRELOAD"));
        return (!userMalloc, Get(HugePagesVariable) is null);
    }

    private static IEnumerable<string> Tune((bool Malloc, bool HugePages) plan, string glibc)
    {
        if (plan.Malloc)
        {
            var applied = mallopt(MMmapThreshold, MmapThresholdBytes) == 1 && mallopt(MTrimThreshold, TrimThresholdBytes) == 1 && mallopt(MTopPad, TopPadBytes) == 1;
            yield return applied
                ? $"glibc {glibc} malloc: mmap threshold {MmapThresholdBytes >> 20} MiB, trim threshold {TrimThresholdBytes >> 20} MiB, top pad {TopPadBytes >> 20} MiB"
                : $"glibc {glibc} malloc: refused the thresholds, left as it was";
        }
        else
        {
            yield return "malloc: the environment's own settings";
        }
        if (plan.HugePages)
        {
            // The native environment, where libtorch's getenv looks; Environment.SetEnvironmentVariable would not reach it.
            yield return setenv(HugePagesVariable, "1", 0) == 0 ? "libtorch huge pages on" : "libtorch huge pages: could not be set";
        }
        else
        {
            yield return $"libtorch huge pages: {HugePagesVariable}={Environment.GetEnvironmentVariable(HugePagesVariable)} from the environment";
        }
    }

    private static string? GlibcVersion()
    {
        try
        {
            return Marshal.PtrToStringAnsi(gnu_get_libc_version());
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return null; // musl and other C libraries: their allocators have other knobs
        }
    }

    [LibraryImport("libc")]
    private static partial nint gnu_get_libc_version();

    [LibraryImport("libc")]
    private static partial int mallopt(int parameter, int value);

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int setenv(string name, string value, int overwrite);
}
