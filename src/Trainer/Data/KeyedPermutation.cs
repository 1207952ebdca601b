using System.Numerics;

namespace Orchestrator.Trainer.Data;

/// <summary>
/// A bijection of [0, count) chosen by a 64-bit key, computed one index at a time in O(1) memory: a
/// balanced Feistel network on the smallest even number of bits that covers <c>count</c>, with cycle-walking
/// (apply again until the value falls inside the range).
/// </summary>
/// <remarks>
/// Why not <c>randperm</c>: a file-backed dataset may hold billions of windows, and a materialised
/// permutation of them (8 bytes each) would be larger than the file's share we ever read in one epoch.
/// A Feistel network is a permutation of its whole bit-domain whatever its round function, so restricting
/// it by cycle-walking stays a permutation of [0, count); the domain is less than four times the range, so
/// a lookup takes under four passes on average. It is a shuffle for training, not cryptography: six rounds
/// of a SplitMix64 finaliser mix well enough that neighbouring indices land far apart.
/// </remarks>
internal sealed class KeyedPermutation
{
    private const int Rounds = 6;
    private readonly ulong _count;
    private readonly int _halfBits;
    private readonly ulong _halfMask;
    private readonly ulong[] _roundKeys = new ulong[Rounds];

    public KeyedPermutation(long count, ulong key)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        _count = (ulong)count;
        var bits = count == 1 ? 1 : 64 - BitOperations.LeadingZeroCount(_count - 1);
        _halfBits = Math.Max(1, (bits + 1) / 2);
        _halfMask = (1UL << _halfBits) - 1;
        var state = key;
        for (var i = 0; i < Rounds; i++)
        {
            state += 0x9E3779B97F4A7C15UL;
            _roundKeys[i] = Mix(state);
        }
    }

    /// <summary>The key of one epoch's shuffle: depends on nothing but the seed and the epoch.</summary>
    public static ulong EpochKey(long shuffleSeed, long epoch) => Mix(Mix(unchecked((ulong)shuffleSeed)) ^ unchecked((ulong)epoch * 0xD1B54A32D192ED03UL));

    public long this[long index]
    {
        get
        {
            if ((ulong)index >= _count)
            {
                throw new ArgumentOutOfRangeException(nameof(index), $"index {index} is outside [0, {_count})");
            }
            var value = (ulong)index;
            do
            {
                value = Encrypt(value);
            }
            while (value >= _count);
            return (long)value;
        }
    }

    private ulong Encrypt(ulong value)
    {
        var left = value >> _halfBits;
        var right = value & _halfMask;
        foreach (var roundKey in _roundKeys)
        {
            (left, right) = (right, left ^ (Mix(right ^ roundKey) & _halfMask));
        }
        return (left << _halfBits) | right;
    }

    /// <summary>SplitMix64's finaliser: every input bit flips about half the output bits.</summary>
    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
