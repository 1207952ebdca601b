using System.Buffers.Binary;
using System.Text;

namespace Orchestrator.Trainer.Interop;

/// <summary>
/// A pickle reader that runs no code: it understands the opcodes that build plain data (dicts, lists, tuples,
/// strings, numbers, booleans, None) and the three calls a <c>torch.save</c>d state_dict makes
/// (<c>collections.OrderedDict</c>, <c>torch._utils._rebuild_tensor_v2</c> and <c>_rebuild_parameter</c>),
/// whose effect it imitates. Any other class or function the pickle names is refused before anything is
/// called, with its name. Everything it builds grows with the bytes it reads, so a pickle cannot make it
/// allocate more than its own size several times over.
/// </summary>
internal sealed class RestrictedUnpickler
{
    private static readonly PickleGlobal OrderedDict = new("collections", "OrderedDict");
    private static readonly PickleGlobal RebuildTensor = new("torch._utils", "_rebuild_tensor_v2");
    private static readonly PickleGlobal RebuildParameter = new("torch._utils", "_rebuild_parameter");

    private readonly string _path;
    private readonly byte[] _pickle;
    private readonly List<object?> _stack = [];
    private readonly List<int> _marks = [];
    private readonly Dictionary<long, object?> _memo = [];
    private int _position;

    private RestrictedUnpickler(string path, byte[] pickle)
    {
        _path = path;
        _pickle = pickle;
    }

    /// <summary>The value the pickle describes, or a refusal naming <paramref name="path"/>.</summary>
    public static object? Load(string path, byte[] pickle) => new RestrictedUnpickler(path, pickle).Run();

    private object? Run()
    {
        while (true)
        {
            var at = _position;
            var opcode = Byte();
            switch (opcode)
            {
                case 0x80: Byte(); break; // PROTO
                case 0x95: Bytes(8); break; // FRAME: framing only, the bytes follow inline
                case (byte)'.': return _stack.Count == 1 ? Pop() : throw Damaged("ends with a stack that is not one value");
                case (byte)'(': _marks.Add(_stack.Count); break;
                case (byte)'0': Pop(); break;
                case (byte)'1': PopMark(); break;
                case (byte)'2': Push(Peek()); break;
                case (byte)'N': Push(null); break;
                case 0x88: Push(true); break;
                case 0x89: Push(false); break;
                case (byte)'J': Push((long)BinaryPrimitives.ReadInt32LittleEndian(Bytes(4))); break;
                case (byte)'K': Push((long)Byte()); break;
                case (byte)'M': Push((long)BinaryPrimitives.ReadUInt16LittleEndian(Bytes(2))); break;
                case 0x8a: Push(Long(Byte())); break; // LONG1
                case (byte)'G': Push(BinaryPrimitives.ReadDoubleBigEndian(Bytes(8))); break;
                case (byte)'X': Push(Encoding.UTF8.GetString(Bytes(Length(BinaryPrimitives.ReadUInt32LittleEndian(Bytes(4)))))); break;
                case 0x8c: Push(Encoding.UTF8.GetString(Bytes(Byte()))); break; // SHORT_BINUNICODE
                case 0x8d: Push(Encoding.UTF8.GetString(Bytes(Length(BinaryPrimitives.ReadUInt64LittleEndian(Bytes(8)))))); break;
                case (byte)'T': Push(Encoding.Latin1.GetString(Bytes(Length(BinaryPrimitives.ReadUInt32LittleEndian(Bytes(4)))))); break;
                case (byte)'U': Push(Encoding.Latin1.GetString(Bytes(Byte()))); break;
                case (byte)'B': Push(Bytes(Length(BinaryPrimitives.ReadUInt32LittleEndian(Bytes(4)))).ToArray()); break;
                case (byte)'C': Push(Bytes(Byte()).ToArray()); break;
                case (byte)'}': Push(new PickleDict()); break;
                case (byte)']': Push(new List<object?>()); break;
                case (byte)')': Push(new PickleTuple([])); break;
                case (byte)'t': Push(new PickleTuple([.. PopMark()])); break;
                case 0x85: Push(new PickleTuple([Pop()])); break;
                case 0x86: { var b = Pop(); var a = Pop(); Push(new PickleTuple([a, b])); break; }
                case 0x87: { var c = Pop(); var b = Pop(); var a = Pop(); Push(new PickleTuple([a, b, c])); break; }
                case (byte)'l': Push(PopMark()); break;
                case (byte)'d': Push(DictOf(PopMark())); break;
                case (byte)'a': { var item = Pop(); ListAt().Add(item); break; }
                case (byte)'e': { var items = PopMark(); ListAt().AddRange(items); break; }
                case (byte)'s': { var value = Pop(); var key = Pop(); DictAt().Set(key, value); break; }
                case (byte)'u': { var items = PopMark(); SetItems(DictAt(), items); break; }
                case (byte)'q': _memo[Byte()] = Peek(); break;
                case (byte)'r': _memo[BinaryPrimitives.ReadUInt32LittleEndian(Bytes(4))] = Peek(); break;
                case 0x94: _memo[_memo.Count] = Peek(); break; // MEMOIZE
                case (byte)'h': Push(Memo(Byte())); break;
                case (byte)'j': Push(Memo(BinaryPrimitives.ReadUInt32LittleEndian(Bytes(4)))); break;
                case (byte)'c': Push(Allowed(new PickleGlobal(Line(), Line()))); break;
                case 0x93: { var name = Pop(); var module = Pop(); Push(Allowed(new PickleGlobal(module as string ?? "?", name as string ?? "?"))); break; }
                case (byte)'R': { var args = Pop(); var callable = Pop(); Push(Call(callable, args)); break; }
                case (byte)'b': Build(); break;
                case (byte)'Q': Push(PersistentStorage(Pop())); break;
                case (byte)'i': throw NotATensor($"{Line()}.{Line()}");
                case (byte)'o' or 0x81 or 0x92: throw NotATensor(ClassName(opcode));
                default: throw Damaged($"uses pickle opcode 0x{opcode:x2} at byte {at}, which a state_dict of tensors does not need");
            }
        }
    }

    /// <summary>Names are allowed onto the stack only if calling them (or reading a storage of them) is imitated here.</summary>
    private PickleGlobal Allowed(PickleGlobal global) =>
        global == OrderedDict || global == RebuildTensor || global == RebuildParameter || TensorDTypes.TryFromStorage(global.Module, global.Name, out _)
            ? global
            : throw NotATensor(global.FullName);

    private object Call(object? callable, object? args)
    {
        if (callable is not PickleGlobal global || args is not PickleTuple tuple)
        {
            throw Damaged("calls something that is not a named function with a tuple of arguments");
        }
        if (global == OrderedDict && tuple.Items.Length == 0)
        {
            return new PickleDict();
        }
        if (global == RebuildTensor)
        {
            return TensorArguments.Rebuild(_path, tuple.Items);
        }
        if (global == RebuildParameter && tuple.Items is [TensorRef parameter, ..])
        {
            return parameter;
        }
        throw NotATensor($"{global.FullName}(...)");
    }

    // BUILD sets an object's state. The only object here that has one is an OrderedDict state_dict, whose
    // state is its _metadata (module versions): kept out, it decides nothing about the tensors.
    private void Build()
    {
        var state = Pop();
        if (Peek() is not PickleDict || state is not (PickleDict or null))
        {
            throw NotATensor($"state set on {TypeName(Peek())}");
        }
    }

    private StorageRef PersistentStorage(object? id)
    {
        if (id is PickleTuple { Items: ["storage", PickleGlobal type, string key, string, long count] }
            && TensorDTypes.TryFromStorage(type.Module, type.Name, out var dtype) && count >= 0)
        {
            return new StorageRef(key, dtype, count);
        }
        throw Damaged("refers to something outside the pickle that is not a tensor storage ('storage', torch.XStorage, key, location, size)");
    }

    private string ClassName(byte opcode)
    {
        // OBJ and NEWOBJ build an instance of a class on the stack: only allowed names get there, none a class of objects.
        var candidate = _stack.LastOrDefault(v => v is PickleGlobal) as PickleGlobal;
        return candidate?.FullName ?? $"a class instance (pickle opcode 0x{opcode:x2})";
    }

    private static PickleDict DictOf(List<object?> items)
    {
        var dict = new PickleDict();
        SetItems(dict, items);
        return dict;
    }

    private static void SetItems(PickleDict dict, List<object?> items)
    {
        for (var index = 0; index + 1 < items.Count; index += 2)
        {
            dict.Set(items[index], items[index + 1]);
        }
    }

    private object? Memo(long index) => _memo.TryGetValue(index, out var value) ? value : throw Damaged($"refers to memo entry {index}, which it never stored");

    private List<object?> ListAt() => Peek() as List<object?> ?? throw Damaged("appends to something that is not a list");

    private PickleDict DictAt() => Peek() as PickleDict ?? throw NotATensor($"items set on {TypeName(Peek())}");

    private void Push(object? value) => _stack.Add(value);

    private object? Peek() => _stack.Count > (_marks.Count > 0 ? _marks[^1] : 0) ? _stack[^1] : throw Damaged("reads past the start of its stack");

    private object? Pop()
    {
        var value = Peek();
        _stack.RemoveAt(_stack.Count - 1);
        return value;
    }

    private List<object?> PopMark()
    {
        if (_marks.Count == 0)
        {
            throw Damaged("closes a mark it never opened");
        }
        var mark = _marks[^1];
        _marks.RemoveAt(_marks.Count - 1);
        var items = _stack.GetRange(mark, _stack.Count - mark);
        _stack.RemoveRange(mark, _stack.Count - mark);
        return items;
    }

    private byte Byte() => Bytes(1)[0];

    private ReadOnlySpan<byte> Bytes(int count)
    {
        if (count > _pickle.Length - _position)
        {
            throw Damaged("ends in the middle of a value (truncated)");
        }
        var span = _pickle.AsSpan(_position, count);
        _position += count;
        return span;
    }

    private int Length(ulong length) => length <= (ulong)(_pickle.Length - _position) ? (int)length : throw Damaged("ends in the middle of a value (truncated)");

    private long Long(int byteCount)
    {
        if (byteCount > 8)
        {
            throw Damaged($"holds an integer of {byteCount} bytes, larger than a state_dict needs");
        }
        var bytes = Bytes(byteCount);
        var value = 0L;
        for (var index = byteCount - 1; index >= 0; index--)
        {
            value = (value << 8) | bytes[index];
        }
        // Two's complement of byteCount bytes: sign-extend from the top bit.
        return byteCount is > 0 and < 8 && (bytes[byteCount - 1] & 0x80) != 0 ? value - (1L << (8 * byteCount)) : value;
    }

    private string Line()
    {
        var end = Array.IndexOf(_pickle, (byte)'\n', _position);
        if (end < 0)
        {
            throw Damaged("ends in the middle of a name (truncated)");
        }
        var line = Encoding.UTF8.GetString(_pickle, _position, end - _position);
        _position = end + 1;
        return line;
    }

    private static string TypeName(object? value) => value switch
    {
        null => "None",
        PickleGlobal global => global.FullName,
        TensorRef => "a tensor",
        _ => value.GetType().Name,
    };

    private Exception NotATensor(string type) =>
        StateDictRefusal.Of(_path, $"holds a pickled object of type {type}, not a state_dict of tensors; only tensors in plain containers are loaded (no code runs on load)");

    private Exception Damaged(string problem) => StateDictRefusal.Of(_path, $"its pickle (data.pkl) {problem}");
}
