using System.Collections;
using System.Runtime.InteropServices;
using Orchestrator.Trainer.Runtime;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Tests.Native;

public sealed class NativeMemoryTuningTests
{
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
    public void Libtorch_sees_the_huge_page_setting_in_the_native_environment()
    {
        NativeMemoryTuning.Apply();

        Assert.Contains("huge pages on", NativeMemoryTuning.Summary);
        Assert.Equal("1", Marshal.PtrToStringAnsi(getenv("THP_MEM_ALLOC_ENABLE")));
    }

    [Fact]
    public void Memory_a_step_frees_is_reused_by_the_next_without_new_page_faults()
    {
        NativeMemoryTuning.Apply();
        const int tensorBytes = 8 << 20; // under the mmap threshold, over glibc's default trim threshold
        const int iterations = 24;
        var faultsOnceWarm = 0L;
        // A thread of its own: page faults are counted per thread, and it gets a malloc arena as a rank thread does.
        var thread = new Thread(() =>
        {
            var before = 0L; // the heap grows over the first iterations; the second half is the steady state
            for (var i = 0; i < iterations; i++)
            {
                if (i == iterations / 2)
                {
                    before = ThreadMinorFaults();
                }
                using var scope = NewDisposeScope();
                // Three step-sized temporaries freed together: the freed top of the heap is what glibc's
                // default trims back to the kernel, to be faulted in again on the next step.
                for (var t = 0; t < 3; t++)
                {
                    empty(tensorBytes / sizeof(float)).fill_(1.0f);
                }
            }
            faultsOnceWarm = ThreadMinorFaults() - before;
        });
        thread.Start();
        thread.Join();

        var pagesTouched = (iterations / 2) * 3L * tensorBytes / Environment.SystemPageSize;
        Assert.True(faultsOnceWarm < pagesTouched / 20, $"{faultsOnceWarm} page faults for {pagesTouched} pages of reused memory");
    }

    private static long ThreadMinorFaults() =>
        long.Parse(File.ReadAllText("/proc/thread-self/stat").Split(')')[1].Split(' ', StringSplitOptions.RemoveEmptyEntries)[7]);

    [DllImport("libc")]
    private static extern nint getenv(string name);
}
