using System.Buffers.Binary;
using System.Text;

namespace Orchestrator.Actors.Gradients;

/// <summary>
/// Who opened a ring link: the job's token, the generation of the ring it belongs to and the rank that sends
/// on it. A listener hands a connection only to the ring of that generation, from that rank.
/// </summary>
internal sealed record RingHello(string Token, int Generation, int From);

/// <summary>
/// The header of one ring frame: which step, exchange and bucket its floats are, stamped with the generation
/// so bytes of an abandoned step can never be summed into a later one. Each frame also carries one rank's loss
/// and sample count, passed on around the ring during the reduce, so every rank learns all of them.
/// </summary>
internal readonly record struct RingHeader(int Generation, long Step, int Exchange, int Bucket, int ScalarRank, double Loss, long Samples)
{
    public const int Bytes = 40;
}

internal static class RingFrames
{
    public const byte Hello = (byte)'h';
    public const byte Segment = (byte)'R';

    public static Frame HelloFrame(RingHello hello) =>
        new(Hello, Encoding.UTF8.GetBytes($"{hello.Token}\n{hello.Generation}\n{hello.From}"), ArraySegment<float>.Empty);

    /// <summary>Null for anything that is not a ring hello.</summary>
    public static RingHello? ReadHello(Frame? frame)
    {
        if (frame is not { Kind: Hello })
        {
            return null;
        }
        var parts = Encoding.UTF8.GetString(frame.Header).Split('\n');
        return parts.Length == 3 && int.TryParse(parts[1], out var generation) && int.TryParse(parts[2], out var from)
            ? new RingHello(parts[0], generation, from)
            : null;
    }

    public static Frame Of(RingHeader header, ArraySegment<float> values)
    {
        var bytes = new byte[RingHeader.Bytes];
        var span = bytes.AsSpan();
        BinaryPrimitives.WriteInt32LittleEndian(span, header.Generation);
        BinaryPrimitives.WriteInt64LittleEndian(span[4..], header.Step);
        BinaryPrimitives.WriteInt32LittleEndian(span[12..], header.Exchange);
        BinaryPrimitives.WriteInt32LittleEndian(span[16..], header.Bucket);
        BinaryPrimitives.WriteInt32LittleEndian(span[20..], header.ScalarRank);
        BinaryPrimitives.WriteDoubleLittleEndian(span[24..], header.Loss);
        BinaryPrimitives.WriteInt64LittleEndian(span[32..], header.Samples);
        return new Frame(Segment, bytes, values);
    }

    /// <summary>Throws InvalidDataException for a header this code did not write.</summary>
    public static RingHeader ReadHeader(byte[] bytes)
    {
        if (bytes.Length != RingHeader.Bytes)
        {
            throw new InvalidDataException($"a ring frame header of {bytes.Length} bytes is not one of this version's {RingHeader.Bytes}");
        }
        var span = bytes.AsSpan();
        return new RingHeader(
            BinaryPrimitives.ReadInt32LittleEndian(span), BinaryPrimitives.ReadInt64LittleEndian(span[4..]),
            BinaryPrimitives.ReadInt32LittleEndian(span[12..]), BinaryPrimitives.ReadInt32LittleEndian(span[16..]),
            BinaryPrimitives.ReadInt32LittleEndian(span[20..]), BinaryPrimitives.ReadDoubleLittleEndian(span[24..]),
            BinaryPrimitives.ReadInt64LittleEndian(span[32..]));
    }
}
