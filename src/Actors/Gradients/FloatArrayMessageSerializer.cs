using System.Runtime.InteropServices;
using System.Runtime.Serialization;
using Akka.Actor;
using Akka.Serialization;
using Orchestrator.Actors.Protocol;

namespace Orchestrator.Actors.Gradients;

/// <summary>
/// Puts the messages that carry tensors (gradient chunks, averaged chunks, BatchNorm buffers) on the wire
/// as a few fixed fields followed by the floats' raw little-endian bytes: exact to the bit, a quarter of the
/// size of JSON numbers, and no parsing on the step path.
/// </summary>
public sealed class FloatArrayMessageSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    private const string Gradient = "G";
    private const string Averaged = "A";
    private const string Exported = "E";
    private const string Import = "I";

    public override int Identifier => 7301;

    public override string Manifest(object o) => o switch
    {
        GradientChunk => Gradient,
        AveragedChunk => Averaged,
        BuffersExported => Exported,
        ImportBuffers => Import,
        _ => throw new ArgumentException($"{o.GetType().Name} is not a float-array message"),
    };

    public override byte[] ToBinary(object obj)
    {
        var (header, values) = Split(obj);
        var bytes = new byte[header.Length + sizeof(int) + ((long)values.Count * sizeof(float))];
        header.CopyTo(bytes, 0);
        BitConverter.TryWriteBytes(bytes.AsSpan(header.Length), values.Count);
        MemoryMarshal.AsBytes(values.AsSpan()).CopyTo(bytes.AsSpan(header.Length + sizeof(int)));
        return bytes;
    }

    /// <summary>
    /// The message's fixed fields as bytes, and its floats as they are: the gradient link writes the floats
    /// straight from the array to its socket, with no copy into a message buffer.
    /// </summary>
    public static (byte[] Header, ArraySegment<float> Values) Split(object obj)
    {
        using var header = new MemoryStream(64);
        using var writer = new BinaryWriter(header);
        ArraySegment<float> values;
        switch (obj)
        {
            case GradientChunk g:
                writer.Write(g.Generation); writer.Write(g.Rank); writer.Write(g.Step); writer.Write(g.Index);
                writer.Write(g.Count); writer.Write(g.TotalLength); writer.Write(g.Loss); writer.Write(g.Samples);
                values = g.Values;
                break;
            case AveragedChunk a:
                writer.Write(a.Generation); writer.Write(a.Step); writer.Write(a.Index); writer.Write(a.Count);
                writer.Write(a.TotalLength); writer.Write(a.GlobalSamples);
                values = a.Values;
                break;
            case BuffersExported e:
                writer.Write(e.Generation); writer.Write(e.Rank); writer.Write(e.Step);
                values = e.Values;
                break;
            case ImportBuffers i:
                writer.Write(i.Generation); writer.Write(i.Step);
                values = i.Values;
                break;
            default:
                throw new ArgumentException($"{obj.GetType().Name} is not a float-array message");
        }
        writer.Flush();
        return (header.ToArray(), values);
    }

    /// <summary>The message from a header written by <see cref="Split"/> and its floats, wherever they were read to.</summary>
    public static object Join(string manifest, byte[] header, ArraySegment<float> values)
    {
        try
        {
            using var reader = new BinaryReader(new MemoryStream(header, writable: false));
            return Build(manifest, reader, () => values);
        }
        catch (EndOfStreamException)
        {
            throw new SerializationException($"float-array message '{manifest}' has a header of {header.Length} bytes, too short (corrupt, or not written by this serializer)");
        }
    }
    public override object FromBinary(byte[] bytes, string manifest)
    {
        try
        {
            return Read(bytes, manifest);
        }
        catch (EndOfStreamException)
        {
            throw new SerializationException($"float-array message '{manifest}' is cut short: its {bytes.Length} bytes end inside the header (corrupt, or not written by this serializer)");
        }
    }

    private static object Read(byte[] bytes, string manifest)
    {
        using var reader = new BinaryReader(new MemoryStream(bytes, writable: false));
        ArraySegment<float> Values()
        {
            var count = reader.ReadInt32();
            var offset = (int)reader.BaseStream.Position;
            // The count is checked against the bytes before allocating: a corrupt one must neither allocate
            // gigabytes nor quietly drop or invent floats.
            if (count < 0 || (long)count * sizeof(float) != bytes.Length - offset)
            {
                throw new SerializationException($"float-array message '{manifest}' announces {count} floats but carries {bytes.Length - offset} bytes after its header (corrupt, or not written by this serializer)");
            }
            var values = new float[count];
            MemoryMarshal.Cast<byte, float>(bytes.AsSpan(offset)).CopyTo(values);
            return values;
        }
        return Build(manifest, reader, Values);
    }

    private static object Build(string manifest, BinaryReader reader, Func<ArraySegment<float>> Values)
    {
        switch (manifest)
        {
            case Gradient:
            {
                var (generation, rank, step, index) = (reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt64(), reader.ReadInt32());
                var (count, total, loss, samples) = (reader.ReadInt32(), reader.ReadInt32(), reader.ReadDouble(), reader.ReadInt64());
                return new GradientChunk(generation, rank, step, index, count, total, Values(), loss, samples);
            }
            case Averaged:
            {
                var (generation, step, index, count) = (reader.ReadInt32(), reader.ReadInt64(), reader.ReadInt32(), reader.ReadInt32());
                var (total, samples) = (reader.ReadInt32(), reader.ReadInt64());
                return new AveragedChunk(generation, step, index, count, total, Values(), samples);
            }
            case Exported:
            {
                var (generation, rank, step) = (reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt64());
                return new BuffersExported(generation, rank, step, WholeArray(Values()));
            }
            case Import:
            {
                var (generation, step) = (reader.ReadInt32(), reader.ReadInt64());
                return new ImportBuffers(generation, step, WholeArray(Values()));
            }
            default:
                throw new SerializationException($"unknown float-array message manifest '{manifest}'");
        }
    }

    private static float[] WholeArray(ArraySegment<float> values) =>
        values.Array is { } array && values.Offset == 0 && values.Count == array.Length ? array : values.AsSpan().ToArray();
}
