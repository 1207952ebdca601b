namespace Orchestrator.Actors.Gradients;

/// <summary>
/// The array a gradient link reads one step's chunks into, each at its own place, so the receiver gets the
/// whole flattened array without a copy. It is reused step after step: a step's chunks only arrive once
/// every rank has applied the previous step's average, so nobody reads the previous ones any more.
/// </summary>
internal sealed class ChunkLanding
{
    private float[] _values = [];

    /// <summary>Where chunk <paramref name="index"/> of <paramref name="count"/> goes; throws for a chunk that does not fit.</summary>
    public ArraySegment<float> Place(int index, int count, int totalLength, int length)
    {
        if (!Chunking.Fits(index, count, totalLength, length))
        {
            throw new InvalidDataException($"chunk {index} of {count} with {length} floats does not fit gradients of {totalLength} floats");
        }
        if (_values.Length != totalLength)
        {
            _values = new float[totalLength];
        }
        return new ArraySegment<float>(_values, Chunking.OffsetOf(index, totalLength), length);
    }
}
