namespace Orchestrator.Trainer.Training;

/// <summary>
/// The seed of a job's step generator for one micro-batch: a hash of (seed, rank, iteration, micro-batch).
/// Being a pure function of where training stands, it needs no checkpoint: a resumed replica reseeds exactly
/// as an uninterrupted one did, on every rank, at any world size (mmengine's diff_rank_seed, made resumable).
/// </summary>
public static class StepSeeds
{
    public static long For(long seed, int rank, long iteration, int microBatch)
    {
        var state = Mix(unchecked((ulong)seed));
        state = Mix(state ^ unchecked((ulong)rank));
        state = Mix(state ^ unchecked((ulong)iteration));
        state = Mix(state ^ unchecked((ulong)microBatch));
        return unchecked((long)(state >> 1)); // non-negative: libtorch's manual_seed takes it as given
    }

    // SplitMix64's finaliser: fixed forever, unlike System.Random or string.GetHashCode.
    private static ulong Mix(ulong value)
    {
        var z = value + 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
