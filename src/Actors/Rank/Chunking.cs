namespace Orchestrator.Actors.Rank;

/// <summary>How flattened tensors are cut for messages: 256 Ki floats (1 MiB) per chunk.</summary>
internal static class Chunking
{
    public const int ChunkLength = 1 << 18;

    public static int CountFor(int length) => Math.Max(1, (length + ChunkLength - 1) / ChunkLength);

    public static int LengthOf(int index, int totalLength) => Math.Min(ChunkLength, totalLength - (index * ChunkLength));

    /// <summary>Chunk <paramref name="index"/> of <paramref name="values"/>, as a view (no copy).</summary>
    public static ArraySegment<float> Slice(float[] values, int index) => new(values, index * ChunkLength, LengthOf(index, values.Length));

    /// <summary>True when the chunk fits a flattened array of <paramref name="totalLength"/> floats.</summary>
    public static bool Fits(int index, int count, int totalLength, int length) =>
        totalLength >= 0 && count == CountFor(totalLength) && index >= 0 && index < count && length == Math.Max(0, LengthOf(index, totalLength));
}
