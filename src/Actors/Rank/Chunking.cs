namespace Orchestrator.Actors.Rank;

/// <summary>How flattened tensors are cut for messages: 256 Ki floats (1 MiB) per chunk.</summary>
internal static class Chunking
{
    public const int ChunkLength = 1 << 18;

    public static int CountFor(int length) => Math.Max(1, (length + ChunkLength - 1) / ChunkLength);

    public static float[] Slice(float[] values, int index)
    {
        var start = index * ChunkLength;
        return values.AsSpan(start, Math.Min(ChunkLength, values.Length - start)).ToArray();
    }
}
