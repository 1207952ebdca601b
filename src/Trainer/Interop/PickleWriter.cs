using System.Buffers.Binary;
using System.Text;
using Orchestrator.Trainer.Tensors;

namespace Orchestrator.Trainer.Interop;

/// <summary>A tensor in a pickled state dict: its bytes go to the archive's <c>data/StorageKey</c> record.</summary>
internal sealed record PyTensor(string StorageKey, HostTensor Tensor);

/// <summary>A <c>collections.OrderedDict</c> with string keys, as PyTorch's <c>state_dict()</c> returns.</summary>
internal sealed record PyOrderedDict(IReadOnlyList<KeyValuePair<string, object?>> Items);

/// <summary>A plain dict; keys are strings or integers.</summary>
internal sealed record PyDict(IReadOnlyList<KeyValuePair<object, object?>> Items);

internal sealed record PyList(IReadOnlyList<object?> Items);

internal sealed record PyTuple(IReadOnlyList<object?> Items);

/// <summary>
/// Writes the pickle (protocol 2) that <c>torch.save</c> writes for a state dict, using only the opcodes and
/// globals that PyTorch's <c>weights_only</c> loader accepts: containers, numbers, strings, and tensors rebuilt by
/// <c>torch._utils._rebuild_tensor_v2</c> from a persistent id <c>('storage', torch.FloatStorage, key, 'cpu', numel)</c>.
/// Only the tensors' metadata is pickled; their bytes are separate records of the archive.
/// </summary>
internal static class PickleWriter
{
    private const byte Proto = 0x80, Global = (byte)'c', Reduce = (byte)'R', Mark = (byte)'(', Tuple = (byte)'t';
    private const byte EmptyTuple = (byte)')', EmptyDict = (byte)'}', EmptyList = (byte)']', SetItems = (byte)'u', Appends = (byte)'e';
    private const byte NoneOp = (byte)'N', NewTrue = 0x88, NewFalse = 0x89, BinInt = (byte)'J', BinInt1 = (byte)'K', BinInt2 = (byte)'M';
    private const byte Long1 = 0x8a, BinFloat = (byte)'G', BinUnicode = (byte)'X', BinPersId = (byte)'Q', Stop = (byte)'.';
    private const int Batch = 1000; // as Python's pickler batches SETITEMS and APPENDS

    public static byte[] Serialize(object? value)
    {
        using var stream = new MemoryStream();
        stream.WriteByte(Proto);
        stream.WriteByte(2);
        Write(stream, value);
        stream.WriteByte(Stop);
        return stream.ToArray();
    }

    private static void Write(Stream s, object? value)
    {
        switch (value)
        {
            case null:
                s.WriteByte(NoneOp);
                break;
            case bool flag:
                s.WriteByte(flag ? NewTrue : NewFalse);
                break;
            case int small:
                WriteInt(s, small);
                break;
            case long number:
                WriteInt(s, number);
                break;
            case double real:
                Span<byte> bits = stackalloc byte[8];
                BinaryPrimitives.WriteDoubleBigEndian(bits, real);
                s.WriteByte(BinFloat);
                s.Write(bits);
                break;
            case string text:
                WriteString(s, text);
                break;
            case PyTuple tuple:
                s.WriteByte(Mark);
                foreach (var item in tuple.Items)
                {
                    Write(s, item);
                }
                s.WriteByte(Tuple);
                break;
            case PyList list:
                s.WriteByte(EmptyList);
                WriteBatched(s, list.Items, Appends, Write);
                break;
            case PyDict dict:
                s.WriteByte(EmptyDict);
                WriteBatched(s, dict.Items, SetItems, WritePair);
                break;
            case PyOrderedDict ordered:
                WriteGlobal(s, "collections", "OrderedDict");
                s.WriteByte(EmptyTuple);
                s.WriteByte(Reduce);
                WriteBatched(s, ordered.Items.Select(i => KeyValuePair.Create((object)i.Key, i.Value)).ToList(), SetItems, WritePair);
                break;
            case PyTensor tensor:
                WriteTensor(s, tensor);
                break;
            case StorageClass storage:
                WriteGlobal(s, "torch", storage.Name);
                break;
            default:
                throw new ArgumentException($"cannot pickle a {value.GetType().Name}");
        }
    }

    private static void WritePair(Stream s, KeyValuePair<object, object?> pair)
    {
        Write(s, pair.Key);
        Write(s, pair.Value);
    }

    private static void WriteBatched<T>(Stream s, IReadOnlyList<T> items, byte op, Action<Stream, T> write)
    {
        for (var start = 0; start < items.Count; start += Batch)
        {
            s.WriteByte(Mark);
            for (var i = start; i < Math.Min(items.Count, start + Batch); i++)
            {
                write(s, items[i]);
            }
            s.WriteByte(op);
        }
    }

    /// <summary><c>_rebuild_tensor_v2(storage, 0, size, stride, False, OrderedDict())</c>, the storage a persistent id.</summary>
    private static void WriteTensor(Stream s, PyTensor pickled)
    {
        var tensor = pickled.Tensor;
        var elements = tensor.Shape.Aggregate(1L, (a, b) => checked(a * b));
        WriteGlobal(s, "torch._utils", "_rebuild_tensor_v2");
        s.WriteByte(Mark);
        Write(s, new PyTuple(["storage", new StorageClass(TensorDTypes.StorageName(tensor.DType)), pickled.StorageKey, "cpu", elements]));
        s.WriteByte(BinPersId);
        WriteInt(s, 0);
        Write(s, new PyTuple(tensor.Shape.Select(d => (object?)d).ToList()));
        Write(s, new PyTuple(ContiguousStrides(tensor.Shape).Select(d => (object?)d).ToList()));
        s.WriteByte(NewFalse);
        Write(s, new PyOrderedDict([]));
        s.WriteByte(Tuple);
        s.WriteByte(Reduce);
    }

    private static long[] ContiguousStrides(long[] shape)
    {
        var strides = new long[shape.Length];
        long stride = 1;
        for (var d = shape.Length - 1; d >= 0; d--)
        {
            strides[d] = stride;
            stride *= Math.Max(shape[d], 1);
        }
        return strides;
    }

    private static void WriteGlobal(Stream s, string module, string name)
    {
        s.WriteByte(Global);
        s.Write(Encoding.ASCII.GetBytes($"{module}\n{name}\n"));
    }

    private static void WriteString(Stream s, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(length, (uint)bytes.Length);
        s.WriteByte(BinUnicode);
        s.Write(length);
        s.Write(bytes);
    }

    private static void WriteInt(Stream s, long value)
    {
        if (value is >= 0 and <= byte.MaxValue)
        {
            s.WriteByte(BinInt1);
            s.WriteByte((byte)value);
        }
        else if (value is >= 0 and <= ushort.MaxValue)
        {
            Span<byte> two = stackalloc byte[2];
            BinaryPrimitives.WriteUInt16LittleEndian(two, (ushort)value);
            s.WriteByte(BinInt2);
            s.Write(two);
        }
        else if (value is >= int.MinValue and <= int.MaxValue)
        {
            Span<byte> four = stackalloc byte[4];
            BinaryPrimitives.WriteInt32LittleEndian(four, (int)value);
            s.WriteByte(BinInt);
            s.Write(four);
        }
        else
        {
            // LONG1: the shortest little-endian two's complement; 8 bytes always hold a long.
            Span<byte> eight = stackalloc byte[8];
            BinaryPrimitives.WriteInt64LittleEndian(eight, value);
            var length = 8;
            while (length > 1 && ((eight[length - 1] == 0 && (eight[length - 2] & 0x80) == 0) || (eight[length - 1] == 0xff && (eight[length - 2] & 0x80) != 0)))
            {
                length--;
            }
            s.WriteByte(Long1);
            s.WriteByte((byte)length);
            s.Write(eight[..length]);
        }
    }

    /// <summary>A <c>torch.XStorage</c> class named in a persistent id.</summary>
    private sealed record StorageClass(string Name);
}
