namespace Orchestrator.Actors.Gradients;

/// <summary>
/// How one step's flattened gradients go around a ring of <see cref="World"/> ranks: cut into buckets of
/// <see cref="BucketLength"/> floats (so a bucket leaves while the one before it is still being summed), each
/// bucket into one segment per rank. At exchange k (of 2·(R−1)) rank r sends segment r−k and receives segment
/// r−k−1 of every bucket: the first R−1 exchanges add what arrives to its own (reduce-scatter), the last R−1
/// keep it (all-gather). Segment s is therefore summed as ((g_s + g_{s+1}) + …) + g_{s−1}, in an order that
/// depends only on the world size, and each rank sends and receives 2·(R−1)/R of the gradients.
/// </summary>
internal readonly record struct RingLayout(int Length, int World, int BucketLength)
{
    /// <summary>
    /// 1 Mi floats (4 MiB): at 1 Gbit/s a bucket's segment takes milliseconds on the wire, next to the
    /// microseconds of a frame's overhead, and a 100 MB model still leaves in 25 buckets that overlap.
    /// </summary>
    public const int DefaultBucketLength = 1 << 20;

    public static RingLayout For(int length, int world) => new(length, world, DefaultBucketLength);

    public int Buckets => Math.Max(1, (Length + BucketLength - 1) / BucketLength);

    /// <summary>The exchanges of one step: R−1 to reduce, R−1 to gather.</summary>
    public int Exchanges => 2 * (World - 1);

    /// <summary>Whether exchange <paramref name="exchange"/> adds what arrives (reduce-scatter) rather than keeps it.</summary>
    public bool Reduces(int exchange) => exchange < World - 1;

    /// <summary>The exchange after which a rank holds the whole sum of the segment it received.</summary>
    public int LastReduce => World - 2;

    public int SentAt(int rank, int exchange) => Mod(rank - exchange, World);

    public int ReceivedAt(int rank, int exchange) => Mod(rank - exchange - 1, World);

    /// <summary>
    /// Where segment <paramref name="segment"/> of bucket <paramref name="bucket"/> lies in the flattened
    /// array. Segments start at even offsets, so two half-precision values pack into one float on the wire.
    /// </summary>
    public (int Offset, int Count) Segment(int bucket, int segment)
    {
        var start = bucket * BucketLength;
        var length = Math.Max(0, Math.Min(BucketLength, Length - start));
        var stride = (length + World - 1) / World;
        stride += stride & 1;
        var from = Math.Min(length, segment * stride);
        var to = Math.Min(length, from + stride);
        return (start + from, to - from);
    }

    /// <summary>
    /// Averages <paramref name="count"/> elements of segment <paramref name="segment"/> into
    /// <paramref name="destination"/> in the order the ring sums them, ((g_s + g_s+1) + …) + g_s−1, reading each
    /// rank's values from <paramref name="offset"/> of its own array. <paramref name="scratch"/> holds one slot per
    /// rank, so a step allocates nothing. What ranks in one process and the supervisor compute to match the ring.
    /// </summary>
    public static void AverageInRingOrder(Span<float> destination, int segment, ReadOnlySpan<ArraySegment<float>> byRank, int offset, int count,
        ArraySegment<float>[] scratch)
    {
        for (var k = 0; k < byRank.Length; k++)
        {
            scratch[k] = byRank[(segment + k) % byRank.Length].Slice(offset, count);
        }
        Trainer.Distributed.GradientAverager.AverageInto(destination, scratch.AsSpan(0, byRank.Length));
    }

    private static int Mod(int value, int modulus) => ((value % modulus) + modulus) % modulus;
}
