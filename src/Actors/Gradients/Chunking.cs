namespace Orchestrator.Actors.Gradients;

/// <summary>
/// How flattened tensors are cut for messages: into chunks of at most 256 Ki floats (1 MiB), as equal as
/// possible, and at least two once there are more than 16 Ki floats. Two halves let the supervisor average
/// the first and send it back while the second is still arriving; a 1 MB model's gradients in one chunk had
/// to arrive whole before any average could leave (measured on the gradient link at 1 MB: 1417 MB/s in two
/// chunks, 1113 in one, 1147 in four, whose extra frames cost more than they overlap).
/// </summary>
internal static class Chunking
{
    public const int ChunkLength = 1 << 18;

    // Below this a step's cost is its messages' latency, not the bytes: one chunk.
    private const int SplitAbove = 1 << 14;

    public static int CountFor(int totalLength) => totalLength <= SplitAbove ? 1 : Math.Max(2, (totalLength + ChunkLength - 1) / ChunkLength);

    /// <summary>Floats in every chunk of <paramref name="totalLength"/> but the last, which may be shorter.</summary>
    public static int StrideFor(int totalLength)
    {
        var count = CountFor(totalLength);
        return Math.Max(1, (totalLength + count - 1) / count);
    }

    public static int OffsetOf(int index, int totalLength) => index * StrideFor(totalLength);

    public static int LengthOf(int index, int totalLength)
    {
        var stride = StrideFor(totalLength);
        return Math.Min(stride, totalLength - (index * stride));
    }

    /// <summary>Chunk <paramref name="index"/> of <paramref name="values"/>, as a view (no copy).</summary>
    public static ArraySegment<float> Slice(float[] values, int index) => new(values, OffsetOf(index, values.Length), LengthOf(index, values.Length));

    /// <summary>True when the chunk fits a flattened array of <paramref name="totalLength"/> floats.</summary>
    public static bool Fits(int index, int count, int totalLength, int length) =>
        totalLength >= 0 && count == CountFor(totalLength) && index >= 0 && index < count && length == Math.Max(0, LengthOf(index, totalLength));
}
