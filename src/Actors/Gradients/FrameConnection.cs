using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Runtime.Serialization;

namespace Orchestrator.Actors.Gradients;

/// <summary>One frame: a kind, a few header bytes and the floats, which go to and from the socket in place.</summary>
internal sealed record Frame(byte Kind, byte[] Header, ArraySegment<float> Values);

/// <summary>
/// Where the floats of an incoming frame go, asked once its header is read: a segment of exactly
/// <paramref name="count"/> floats, or the default segment for a new array. Throws InvalidDataException for a
/// frame that does not fit.
/// </summary>
internal delegate ArraySegment<float> FramePlacement(byte kind, byte[] header, int count);

/// <summary>
/// A TCP connection that carries frames both ways. A writer thread writes queued frames (the floats straight
/// from their array, no copy) and a reader thread reads each frame's floats straight to where the receiver
/// wants them (see <see cref="FramePlacement"/>) and hands the frame to a callback, so neither side ever
/// blocks the other's buffers.
/// </summary>
internal sealed class FrameConnection : IDisposable
{
    // A chunk is 256 Ki floats; a header a few dozen bytes. Anything far larger is not one of our frames.
    private const int MaxHeader = 4096;
    private const int MaxFloats = 16 << 20;
    // Floats up to this many bytes leave in the same write as their frame's head: a second write was a second
    // segment, and a second wake-up of the reader, for a step's small frames. Above it the copy costs more.
    private const int InlineBytes = 64 << 10;

    private readonly TcpClient _client;
    private readonly Stream _stream;
    private readonly BlockingCollection<Frame> _outgoing = [];
    // Frames handed to Send and frames the writer has written: a sender may change its floats only once written.
    private readonly object _writtenGate = new();
    private long _queued;
    private long _written;
    private int _disposed;

    /// <summary>Frames on <paramref name="client"/>'s socket, or on <paramref name="stream"/> over it (TLS).</summary>
    public FrameConnection(TcpClient client, Stream? stream = null)
    {
        _client = client;
        _client.NoDelay = true;
        _stream = stream ?? client.GetStream();
        new Thread(WriteLoop) { IsBackground = true, Name = "gradient-link-writer" }.Start();
    }

    public bool Send(Frame frame)
    {
        try
        {
            _outgoing.Add(frame);
            Interlocked.Increment(ref _queued);
            return true;
        }
        catch (InvalidOperationException)
        {
            return false; // closed
        }
    }

    /// <summary>
    /// Waits until every frame sent so far has been written to the socket (its floats are in the kernel's
    /// buffers, not read from their array any more). False when the connection closed or the wait timed out.
    /// </summary>
    public bool WaitUntilWritten(TimeSpan timeout)
    {
        var target = Interlocked.Read(ref _queued);
        var deadline = DateTime.UtcNow + timeout;
        lock (_writtenGate)
        {
            while (_written < target)
            {
                var left = deadline - DateTime.UtcNow;
                if (Volatile.Read(ref _disposed) != 0 || left <= TimeSpan.Zero)
                {
                    return false;
                }
                Monitor.Wait(_writtenGate, left);
            }
        }
        return true;
    }

    private void Written(int frames)
    {
        lock (_writtenGate)
        {
            _written += frames;
            Monitor.PulseAll(_writtenGate);
        }
    }

    /// <summary>Reads one frame in the caller's thread (the hello, before the reader starts); null at end of stream.</summary>
    public Frame? ReadFrame(FramePlacement? place = null)
    {
        Span<byte> prefix = stackalloc byte[9];
        if (!ReadExactly(prefix))
        {
            return null;
        }
        var headerLength = BinaryPrimitives.ReadInt32LittleEndian(prefix);
        var count = BinaryPrimitives.ReadInt32LittleEndian(prefix[4..]);
        if (headerLength is < 0 or > MaxHeader || count is < 0 or > MaxFloats)
        {
            throw new InvalidDataException($"a frame of {headerLength} header bytes and {count} floats is not a gradient frame");
        }
        var header = new byte[headerLength];
        if (!ReadExactly(header))
        {
            throw new EndOfStreamException("the connection closed inside a frame");
        }
        var values = place?.Invoke(prefix[8], header, count) ?? default;
        if (values.Array is null)
        {
            values = new float[count];
        }
        else if (values.Count != count)
        {
            throw new InvalidDataException($"a frame of {count} floats was given room for {values.Count}");
        }
        if (!ReadExactly(MemoryMarshal.AsBytes(values.AsSpan())))
        {
            throw new EndOfStreamException("the connection closed inside a frame");
        }
        return new Frame(prefix[8], header, values);
    }

    /// <summary>
    /// Reads every later frame's floats to where <paramref name="place"/> says and hands the frame to
    /// <paramref name="onFrame"/>; <paramref name="onClosed"/> once the connection ends.
    /// </summary>
    public void StartReading(FramePlacement place, Action<Frame> onFrame, Action<Exception?> onClosed)
    {
        var thread = new Thread(() =>
        {
            Exception? error = null;
            try
            {
                while (ReadFrame(place) is { } frame)
                {
                    onFrame(frame);
                }
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidDataException or SocketException or SerializationException)
            {
                error = Volatile.Read(ref _disposed) == 0 ? e : null;
            }
            Dispose();
            onClosed(error);
        })
        { IsBackground = true, Name = "gradient-link-reader" };
        thread.Start();
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _outgoing.CompleteAdding();
            _client.Dispose(); // closes the socket under a TLS stream too, which ends its reader and writer
            Written(0); // a sender waiting for its frames to be written learns they never will be
        }
    }

    private void WriteLoop()
    {
        try
        {
            if (_stream is NetworkStream && OperatingSystem.IsLinux()) // writev and its errno values as Linux has them
            {
                WriteGathered();
            }
            else
            {
                WriteEach();
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or SocketException)
        {
            Dispose(); // the reader sees the closed socket and reports it
        }
    }

    /// <summary>
    /// Plain TCP on Linux: a frame and the frames queued behind it, up to and including the first large one, in
    /// one <c>writev</c>, the floats straight from their arrays; it never waits for more. A large frame ends the
    /// write: with a 1 MB step's two halves in one write, the other end read nothing until the whole megabyte
    /// was in (474 µs a step, against 305 with a write per half, timed at both ends).
    /// </summary>
    private void WriteGathered()
    {
        using var batch = new FrameBatch(MaxHeader, InlineBytes);
        var socket = _client.Client;
        foreach (var frame in _outgoing.GetConsumingEnumerable())
        {
            var last = Checked(frame);
            batch.Add(last);
            var frames = 1;
            while (FrameBatch.IsInline(last, InlineBytes) && _outgoing.TryTake(out var next))
            {
                last = Checked(next);
                if (!batch.HasRoomFor(last))
                {
                    Flush(batch, socket);
                    Written(frames);
                    frames = 0;
                }
                batch.Add(last);
                frames++;
            }
            Flush(batch, socket);
            Written(frames);
        }
    }

    private static void Flush(FrameBatch batch, Socket socket)
    {
        try
        {
            GatherWrite.WriteAll(socket, batch.Pieces);
        }
        finally
        {
            batch.Clear();
        }
    }

    /// <summary>TLS (and other systems): frame by frame through the stream, prefix and header (small floats too) in one write, so one record.</summary>
    private void WriteEach()
    {
        // With NoDelay each write is a segment of its own (over TLS a record of its own), and a reader woken by
        // the prefix alone would block again.
        var head = new byte[FrameBatch.PrefixBytes + MaxHeader + InlineBytes];
        foreach (var frame in _outgoing.GetConsumingEnumerable())
        {
            var headLength = FrameBatch.WriteHead(Checked(frame), head, InlineBytes);
            _stream.Write(head, 0, headLength);
            if (!FrameBatch.IsInline(frame, InlineBytes))
            {
                _stream.Write(MemoryMarshal.AsBytes(frame.Values.AsSpan()));
            }
            Written(1);
        }
    }

    private static Frame Checked(Frame frame) => frame.Header.Length <= MaxHeader
        ? frame
        : throw new InvalidOperationException($"a frame header of {frame.Header.Length} bytes is over the {MaxHeader} a reader accepts");

    private bool ReadExactly(Span<byte> buffer)
    {
        var read = 0;
        while (read < buffer.Length)
        {
            var n = _stream.Read(buffer[read..]);
            if (n == 0)
            {
                return read == 0 ? false : throw new EndOfStreamException("the connection closed inside a frame");
            }
            read += n;
        }
        return true;
    }
}
