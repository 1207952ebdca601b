using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Orchestrator.Actors.Gradients;

/// <summary>
/// Frames laid out for one gathered write (<see cref="GatherWrite"/>): each frame's prefix, header and small
/// floats copied into a pinned arena, large floats pinned where they lie. Small frames queued together (a
/// step's end before the next gradients) and the large frame behind them then leave in one write instead of
/// a write, or two, each.
/// </summary>
internal sealed class FrameBatch : IDisposable
{
    /// <summary>Prefix: header length, float count, kind.</summary>
    public const int PrefixBytes = 9;
    // Room for four frames' worst-case heads. Heads laid out back to back merge into one piece, so pieces of
    // their own come only from large floats; a batch ends at its first large frame.
    private const int ArenaFrames = 4;
    private const int MaxVectors = 32;

    private readonly int _inlineBytes;
    private readonly byte[] _arena;
    private readonly nint _arenaBase;
    private readonly IoVector[] _vectors = new IoVector[MaxVectors];
    private readonly MemoryHandle[] _pins = new MemoryHandle[MaxVectors];
    private int _arenaUsed;
    private int _vectorCount;
    private int _pinCount;

    public FrameBatch(int maxHeader, int inlineBytes)
    {
        _inlineBytes = inlineBytes;
        _arena = GC.AllocateArray<byte>(ArenaFrames * (PrefixBytes + maxHeader + inlineBytes), pinned: true);
        unsafe
        {
            _arenaBase = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_arena)); // on the pinned heap: it never moves
        }
    }

    public bool HasRoomFor(Frame frame) =>
        _vectorCount + 2 <= MaxVectors && _arenaUsed + HeadBytes(frame) <= _arena.Length;

    /// <summary>Lays out <paramref name="frame"/>; the caller has checked <see cref="HasRoomFor"/>.</summary>
    public void Add(Frame frame)
    {
        var start = _arenaUsed;
        _arenaUsed += WriteHead(frame, _arena.AsSpan(start), _inlineBytes);
        AddArenaPiece(start, _arenaUsed - start);
        if (!IsInline(frame, _inlineBytes))
        {
            var pin = frame.Values.AsMemory().Pin();
            _pins[_pinCount++] = pin;
            unsafe
            {
                _vectors[_vectorCount++] = new IoVector((nint)pin.Pointer, frame.Values.Count * sizeof(float));
            }
        }
    }

    /// <summary>The pieces to write, in order; valid until <see cref="Clear"/>.</summary>
    public Span<IoVector> Pieces => _vectors.AsSpan(0, _vectorCount);

    public void Clear()
    {
        for (var i = 0; i < _pinCount; i++)
        {
            _pins[i].Dispose();
        }
        _pinCount = 0;
        _vectorCount = 0;
        _arenaUsed = 0;
    }

    public void Dispose() => Clear();

    /// <summary>
    /// Writes <paramref name="frame"/>'s prefix and header, and its floats when they are small, to
    /// <paramref name="destination"/>; returns the bytes written.
    /// </summary>
    public static int WriteHead(Frame frame, Span<byte> destination, int inlineBytes)
    {
        BinaryPrimitives.WriteInt32LittleEndian(destination, frame.Header.Length);
        BinaryPrimitives.WriteInt32LittleEndian(destination[4..], frame.Values.Count);
        destination[8] = frame.Kind;
        frame.Header.CopyTo(destination[PrefixBytes..]);
        var length = PrefixBytes + frame.Header.Length;
        if (IsInline(frame, inlineBytes))
        {
            var values = MemoryMarshal.AsBytes(frame.Values.AsSpan());
            values.CopyTo(destination[length..]);
            length += values.Length;
        }
        return length;
    }

    public static bool IsInline(Frame frame, int inlineBytes) => frame.Values.Count * sizeof(float) <= inlineBytes;

    private int HeadBytes(Frame frame) =>
        PrefixBytes + frame.Header.Length + (IsInline(frame, _inlineBytes) ? frame.Values.Count * sizeof(float) : 0);

    private void AddArenaPiece(int start, int length)
    {
        var at = _arenaBase + start;
        // Heads laid out back to back (small frames) go as one piece.
        if (_vectorCount > 0 && _vectors[_vectorCount - 1] is var last && last.Base + last.Length == at)
        {
            _vectors[_vectorCount - 1] = last with { Length = last.Length + length };
            return;
        }
        _vectors[_vectorCount++] = new IoVector(at, length);
    }
}
