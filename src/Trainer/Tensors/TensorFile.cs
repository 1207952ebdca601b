using System.Text;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Tensors;

/// <summary>
/// Reads and writes the named-tensor format of TorchSharp's <c>Module.save</c>/<c>Module.load</c>, so a
/// checkpoint's weights load into any TorchSharp program: a LEB128 count, then for each entry a
/// length-prefixed UTF-8 name, the element type, the rank, each dimension (all LEB128), and the raw bytes.
/// </summary>
public static class TensorFile
{
    public static void Write(Stream stream, IReadOnlyList<KeyValuePair<string, HostTensor>> tensors)
    {
        using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        WriteLeb128(writer, tensors.Count);
        foreach (var (name, tensor) in tensors)
        {
            writer.Write(name);
            WriteLeb128(writer, (long)tensor.DType);
            WriteLeb128(writer, tensor.Shape.Length);
            foreach (var dimension in tensor.Shape)
            {
                WriteLeb128(writer, dimension);
            }
            writer.Write(tensor.Bytes.Span);
        }
    }

    public static List<KeyValuePair<string, HostTensor>> Read(Stream stream) =>
        Read(stream, stream.CanSeek ? stream.Length - stream.Position : int.MaxValue);

    /// <summary>
    /// Reads from a stream of at most <paramref name="maxBytes"/> bytes, each tensor's bytes straight into its
    /// array; a damaged size field fails here instead of asking for more memory than the file holds.
    /// </summary>
    public static List<KeyValuePair<string, HostTensor>> Read(Stream stream, long maxBytes)
    {
        using var reader = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
        var count = ReadLeb128(reader);
        var result = new List<KeyValuePair<string, HostTensor>>((int)Math.Min(count, 1 << 16));
        for (long i = 0; i < count; i++)
        {
            var name = reader.ReadString();
            var dtype = (ScalarType)ReadLeb128(reader);
            var rank = ReadLeb128(reader);
            if (rank is < 0 or > 64)
            {
                throw new InvalidDataException($"tensor '{name}' has an impossible rank {rank}");
            }
            var shape = new long[rank];
            long elements = 1;
            for (var d = 0; d < rank; d++)
            {
                shape[d] = ReadLeb128(reader);
                if (shape[d] < 0)
                {
                    throw new InvalidDataException($"tensor '{name}' has a negative dimension {shape[d]}");
                }
                elements = checked(elements * shape[d]);
            }
            var size = checked(elements * ElementSize(dtype));
            if (size > maxBytes || size > Array.MaxLength)
            {
                throw new InvalidDataException($"tensor '{name}' is cut short: it needs {size} bytes, the file holds at most {maxBytes}");
            }
            var bytes = GC.AllocateUninitializedArray<byte>((int)size);
            var read = stream.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false);
            if (read != size)
            {
                throw new InvalidDataException($"tensor '{name}' is cut short: {read} of {size} bytes");
            }
            result.Add(new(name, new HostTensor(dtype, shape, bytes)));
        }
        return result;
    }

    public static long SizeOf(IReadOnlyList<KeyValuePair<string, HostTensor>> tensors)
    {
        using var counter = new ByteCountingStream();
        Write(counter, tensors);
        return counter.Length;
    }

    public static int ElementSize(ScalarType dtype) => dtype switch
    {
        ScalarType.Byte or ScalarType.Int8 or ScalarType.Bool => 1,
        ScalarType.Int16 or ScalarType.Float16 or ScalarType.BFloat16 => 2,
        ScalarType.Int32 or ScalarType.Float32 => 4,
        ScalarType.Int64 or ScalarType.Float64 or ScalarType.ComplexFloat32 => 8,
        ScalarType.ComplexFloat64 => 16,
        _ => throw new InvalidDataException($"unsupported element type {dtype}"),
    };

    /// <summary>Unsigned LEB128, as TorchSharp writes counts and dimensions.</summary>
    internal static void WriteLeb128(BinaryWriter writer, long value)
    {
        var remaining = (ulong)value;
        do
        {
            var low = (byte)(remaining & 0x7f);
            remaining >>= 7;
            writer.Write(remaining != 0 ? (byte)(low | 0x80) : low);
        }
        while (remaining != 0);
    }

    private static long ReadLeb128(BinaryReader reader)
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            var b = reader.ReadByte();
            value |= (ulong)(b & 0x7f) << shift;
            if ((b & 0x80) == 0)
            {
                return (long)value;
            }
        }
        throw new InvalidDataException("malformed length field");
    }
}
