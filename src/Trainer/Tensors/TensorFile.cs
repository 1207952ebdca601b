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
    public static List<KeyValuePair<string, HostTensor>> Read(Stream stream, long maxBytes) => Parse(stream, maxBytes, keep: true);

    /// <summary>
    /// Reads a whole file of exactly <paramref name="length"/> bytes: like <see cref="Read(Stream, long)"/>,
    /// and bytes after the last tensor (which nothing would ever read) are refused as damage or forgery.
    /// </summary>
    public static List<KeyValuePair<string, HostTensor>> ReadWhole(Stream stream, long length)
    {
        var tensors = Parse(stream, length, keep: true);
        RequireEnd(stream, length);
        return tensors;
    }

    /// <summary>Checks the structure of a whole file of <paramref name="length"/> bytes, as <see cref="ReadWhole"/> does, keeping no tensor.</summary>
    public static void Check(Stream stream, long length)
    {
        Parse(stream, length, keep: false);
        RequireEnd(stream, length);
    }

    private static void RequireEnd(Stream stream, long length)
    {
        if (stream.ReadByte() >= 0)
        {
            throw new InvalidDataException($"{length - stream.Position + 1} bytes follow the last tensor");
        }
    }

    private static List<KeyValuePair<string, HostTensor>> Parse(Stream stream, long maxBytes, bool keep)
    {
        using var reader = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
        var count = ReadLeb128(reader);
        var result = new List<KeyValuePair<string, HostTensor>>((int)Math.Min(count, 1 << 16));
        var scratch = keep ? null : new byte[1 << 16];
        for (long i = 0; i < count; i++)
        {
            var name = ReadName(reader, maxBytes);
            var dtype = (ScalarType)ReadLeb128(reader);
            var rank = ReadLeb128(reader);
            if (rank is < 0 or > 64)
            {
                throw new InvalidDataException($"tensor '{Printable(name)}' has an impossible rank {rank}");
            }
            var shape = new long[rank];
            long elements = 1;
            for (var d = 0; d < rank; d++)
            {
                shape[d] = ReadLeb128(reader);
                if (shape[d] < 0)
                {
                    throw new InvalidDataException($"tensor '{Printable(name)}' has a negative dimension {shape[d]}");
                }
                elements = checked(elements * shape[d]);
            }
            var size = checked(elements * ElementSize(dtype));
            if (size > maxBytes || size > Array.MaxLength)
            {
                throw new InvalidDataException($"tensor '{Printable(name)}' is cut short: it needs {size} bytes, the file holds at most {maxBytes}");
            }
            if (scratch is not null)
            {
                Skip(stream, name, size, scratch);
                continue;
            }
            var bytes = GC.AllocateUninitializedArray<byte>((int)size);
            var read = stream.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false);
            if (read != size)
            {
                throw new InvalidDataException($"tensor '{Printable(name)}' is cut short: {read} of {size} bytes");
            }
            result.Add(new(name, new HostTensor(dtype, shape, bytes)));
        }
        return result;
    }

    // BinaryReader.ReadString's own failures (a negative length is an IOException) would escape as I/O errors.
    private static string ReadName(BinaryReader reader, long maxBytes)
    {
        int length;
        try
        {
            length = reader.Read7BitEncodedInt();
        }
        catch (FormatException)
        {
            throw new InvalidDataException("malformed tensor name length");
        }
        if (length < 0 || length > maxBytes)
        {
            throw new InvalidDataException($"a tensor name of {length} bytes does not fit the file");
        }
        var bytes = reader.ReadBytes(length);
        return bytes.Length == length ? Encoding.UTF8.GetString(bytes) : throw new EndOfStreamException("a tensor name is cut short");
    }

    private static string Printable(string name) => Checkpointing.PrintableText.Escape(name);

    private static void Skip(Stream stream, string name, long size, byte[] scratch)
    {
        for (var left = size; left > 0;)
        {
            var read = stream.Read(scratch, 0, (int)Math.Min(left, scratch.Length));
            if (read == 0)
            {
                throw new InvalidDataException($"tensor '{Printable(name)}' is cut short: {size - left} of {size} bytes");
            }
            left -= read;
        }
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
