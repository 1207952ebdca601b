namespace Orchestrator.Trainer.Jobs;

/// <summary>
/// SplitMix64: a tiny random stream whose output is fixed by its seed forever, unlike System.Random whose
/// algorithm may change between .NET versions. Used where built-in jobs make their data.
/// </summary>
internal sealed class SeededStream(long seed)
{
    private ulong _state = unchecked((ulong)seed);

    public ulong Next()
    {
        var z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public int NextInt(int exclusiveMax) => (int)(Next() % (ulong)exclusiveMax);
}
