using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Orchestrator.Actors.Gradients;

/// <summary>One piece of a gathered write: <paramref name="Length"/> bytes at <paramref name="Base"/>, pinned by the caller.</summary>
[StructLayout(LayoutKind.Sequential)]
internal readonly record struct IoVector(nint Base, nint Length);

/// <summary>
/// Several buffers written to a socket with one <c>writev</c>: one segment on the wire and one wake-up of the
/// reader where separate writes gave one each. .NET's own gathered send takes byte arrays only, and the
/// floats go straight from their arrays.
/// </summary>
internal static partial class GatherWrite
{
    private const int EINTR = 4;
    private const int EAGAIN = 11;
    private const short POLLOUT = 4;

    /// <summary>Writes every byte of <paramref name="pieces"/> (advanced in place as they go); throws SocketException on failure.</summary>
    public static unsafe void WriteAll(Socket socket, Span<IoVector> pieces)
    {
        var handle = socket.SafeHandle;
        var added = false;
        handle.DangerousAddRef(ref added); // the descriptor cannot be closed and reused while it is written
        try
        {
            var fd = (int)handle.DangerousGetHandle();
            while (pieces.Length > 0)
            {
                nint written;
                fixed (IoVector* first = pieces)
                {
                    written = Writev(fd, first, pieces.Length);
                }
                if (written < 0)
                {
                    var errno = Marshal.GetLastPInvokeError();
                    if (errno == EAGAIN)
                    {
                        WaitWritable(fd); // the runtime may have made the socket non-blocking
                        continue;
                    }
                    if (errno != EINTR)
                    {
                        throw new SocketException(errno);
                    }
                    continue;
                }
                pieces = Advance(pieces, written);
            }
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    /// <summary>The pieces still to write once <paramref name="written"/> bytes have left.</summary>
    internal static Span<IoVector> Advance(Span<IoVector> pieces, nint written)
    {
        while (pieces.Length > 0 && written >= pieces[0].Length)
        {
            written -= pieces[0].Length;
            pieces = pieces[1..];
        }
        if (written > 0)
        {
            pieces[0] = new IoVector(pieces[0].Base + written, pieces[0].Length - written);
        }
        return pieces;
    }

    private static unsafe void WaitWritable(int fd)
    {
        var poll = new PollFd { Fd = fd, Events = POLLOUT };
        while (Poll(&poll, 1, -1) < 0 && Marshal.GetLastPInvokeError() == EINTR)
        {
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [LibraryImport("libc", EntryPoint = "writev", SetLastError = true)]
    private static unsafe partial nint Writev(int fd, IoVector* vectors, int count);

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    private static unsafe partial int Poll(PollFd* fds, nuint count, int timeoutMilliseconds);
}
