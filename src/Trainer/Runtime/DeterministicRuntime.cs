using static TorchSharp.torch;

namespace Orchestrator.Trainer.Runtime;

/// <summary>
/// Puts TorchSharp in a reproducible state: one seed for the torch generator and a fixed intra-op thread
/// count (a different count can change float reduction order). TorchSharp 0.107 does not implement
/// use_deterministic_algorithms; the CPU kernels the built-in jobs use are deterministic for a fixed count.
/// </summary>
public static class DeterministicRuntime
{
    public static void Configure(long seed, int threads)
    {
        if (threads <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(threads), "thread count must be positive");
        }
        NativeMemoryTuning.Apply(); // before a job's first tensor, where it has not been applied at start-up
        // Always set, on the calling thread: OpenMP keeps the count per thread, so a thread that skipped this
        // could run kernels with another count than the one the run records. Callers keep one count per
        // process (resizing the pool while another thread runs ops is unsafe).
        set_num_threads(threads);
        random.manual_seed(seed);
    }

    public static int DefaultThreads => Math.Clamp(Environment.ProcessorCount, 1, 8);

    /// <summary>Parses <c>cpu</c>, <c>cuda</c> or <c>cuda:N</c>; refuses CUDA where this build or host has none.</summary>
    public static Device ResolveDevice(string name)
    {
        var normalized = name.Trim().ToLowerInvariant();
        if (normalized == "cpu")
        {
            return CPU;
        }
        if (normalized == "cuda" || normalized.StartsWith("cuda:", StringComparison.Ordinal))
        {
            if (!cuda.is_available())
            {
                throw new ArgumentException($"device '{name}' asked for but CUDA is not available (build with -p:TorchBackend=cuda on a machine with an NVIDIA driver, or use --device cpu)");
            }
            return new Device(normalized);
        }
        throw new ArgumentException($"unknown device '{name}' (use cpu, cuda or cuda:N)");
    }
}
