using System.Collections;
using System.Runtime.InteropServices;
using Orchestrator.Trainer.Runtime;

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
    public void Glibc_takes_the_thresholds_and_libtorch_sees_the_huge_page_setting_in_the_native_environment()
    {
        NativeMemoryTuning.Apply();

        // The summary says "refused" where mallopt returned 0.
        Assert.Contains("malloc: mmap threshold 32 MiB, trim threshold 256 MiB", NativeMemoryTuning.Summary);
        Assert.Contains("huge pages on", NativeMemoryTuning.Summary);
        Assert.Equal("1", Marshal.PtrToStringAnsi(getenv("THP_MEM_ALLOC_ENABLE")));
    }

    [DllImport("libc")]
    private static extern nint getenv(string name);
}
