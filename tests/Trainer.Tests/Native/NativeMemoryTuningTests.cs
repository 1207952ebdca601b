using System.Collections;
using System.Runtime.InteropServices;
using Orchestrator.Trainer.Runtime;

namespace Orchestrator.Trainer.Tests.Native;

public sealed class NativeMemoryTuningTests
{
    // One managed source for every write, touched before any count: a new array would fault in pages of its own.
    private static readonly byte[] Filler = Enumerable.Repeat((byte)1, 1 << 20).ToArray();

    [Fact]
    public void A_plain_environment_gets_both_settings()
    {
        Assert.Equal((true, true), NativeMemoryTuning.Plan(new Hashtable { ["PATH"] = "/usr/bin" }));
    }

    [Theory]
    [InlineData("MALLOC_ARENA_MAX", "2")]
    [InlineData("GLIBC_TUNABLES", "glibc.malloc.trim_threshold=0")]
    [InlineData("LD_PRELOAD", "/usr/lib/libjemalloc.so.2")]
    public void A_users_own_allocator_settings_are_left_alone(string variable, string value)
    {
        Assert.Equal((false, true), NativeMemoryTuning.Plan(new Hashtable { [variable] = value }));
    }

    [Fact]
    public void A_users_own_huge_page_choice_is_left_alone()
    {
        Assert.Equal((true, false), NativeMemoryTuning.Plan(new Hashtable { ["THP_MEM_ALLOC_ENABLE"] = "0" }));
    }

    [Fact]
    public void Glibc_takes_the_thresholds_and_libtorch_sees_the_huge_page_setting_in_the_native_environment()
    {
        NativeMemoryTuning.Apply();

        // The summary says "refused" where mallopt returned 0.
        Assert.Contains("malloc: mmap threshold 32 MiB, trim threshold 256 MiB, top pad 64 MiB", NativeMemoryTuning.Summary);
        Assert.Contains("huge pages on", NativeMemoryTuning.Summary);
        Assert.Equal("1", Marshal.PtrToStringAnsi(getenv("THP_MEM_ALLOC_ENABLE")));
    }

    /// <summary>
    /// A thread other than the main one allocates from an arena of 64 MiB heaps. Freeing what it had in its
    /// newest heap and the end of the heap below must not unmap that heap (glibc does so whatever the trim
    /// threshold unless the top pad is at least a heap): allocated again, the same blocks must land on pages
    /// already faulted in. Without the pad every round here faulted in 257 to 524 pages (one or two MiB)
    /// again.
    /// </summary>
    [Fact]
    public void Memory_a_thread_frees_at_the_top_of_its_arena_is_reused_without_being_faulted_in_again()
    {
        NativeMemoryTuning.Apply();
        long[] faultsByRound = [];
        Exception? failure = null;
        // Its own thread, so it allocates from an arena other than the main thread's; a failure there is
        // rethrown here, where it fails the test instead of the test process.
        var thread = new Thread(() =>
        {
            try
            {
                faultsByRound = FaultsWhenTheTopOfTheArenaIsFreedAndTakenAgain(rounds: 3);
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        thread.Start();
        thread.Join();
        if (failure is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        }

        // The least of a few rounds: a thread of another test may share the arena and take a freed block.
        Assert.True(faultsByRound.Min() < 64, $"page faults per round: {string.Join(", ", faultsByRound)}");
    }

    private static long[] FaultsWhenTheTopOfTheArenaIsFreedAndTakenAgain(int rounds)
    {
        const int Block = 1 << 20; // under the 32 MiB mmap threshold: from the arena's heaps
        const long HeapBytes = 64L << 20; // glibc's per-thread heaps are this size and aligned to it
        var held = new List<nint> { Allocated(Block) };
        // Until a block lands in a new heap: the arena's newest, holding only that block.
        while (held.Count < 300 && (held[^1] & ~(HeapBytes - 1)) == (held[0] & ~(HeapBytes - 1)))
        {
            held.Add(Allocated(Block));
        }
        var faults = new long[rounds];
        try
        {
            for (var round = 0; round < rounds; round++)
            {
                free(held[^1]);
                free(held[^2]);
                var before = ThreadMinorFaults();
                held[^2] = Allocated(Block);
                held[^1] = Allocated(Block);
                faults[round] = ThreadMinorFaults() - before;
            }
        }
        finally
        {
            held.ForEach(free);
        }
        return faults;
    }

    // Every page written, as a tensor's would be.
    private static nint Allocated(int bytes)
    {
        var block = malloc((nuint)bytes);
        Assert.NotEqual(0, block);
        Marshal.Copy(Filler, 0, block, bytes);
        return block;
    }

    private static long ThreadMinorFaults()
    {
        const int RusageThread = 1;
        var usage = new long[18]; // struct rusage: two timevals (4 longs), then ru_maxrss, ru_ixrss, ru_idrss, ru_isrss, ru_minflt
        Assert.Equal(0, getrusage(RusageThread, usage));
        return usage[8];
    }

    [DllImport("libc")]
    private static extern nint getenv(string name);

    [DllImport("libc")]
    private static extern nint malloc(nuint size);

    [DllImport("libc")]
    private static extern void free(nint block);

    [DllImport("libc")]
    private static extern int getrusage(int who, [Out] long[] usage);
}
