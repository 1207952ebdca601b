using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Orchestrator.Actors.Gradients;

namespace Orchestrator.Actors.Tests.Gradients;

/// <summary>
/// Frames over a real socket on 127.0.0.1: small floats leave in their head's write, large ones straight from
/// their arrays, and frames queued together leave in one gathered write.
/// </summary>
public sealed class FrameConnectionTests
{
    [Fact]
    public async Task Frames_on_both_sides_of_the_inline_limit_arrive_whole_and_in_order()
    {
        using var pair = await SocketPair.ConnectAsync();
        var (client, accepted) = (pair.Client, pair.Accepted);
        using var sender = new FrameConnection(client);
        using var receiver = new FrameConnection(accepted);
        // 64 KiB is 16 Ki floats: the largest frame sent in one write, and the smallest sent in two.
        int[] counts = [0, 1, 1000, 16 << 10, (16 << 10) + 1, 256 << 10, 3];
        var frames = counts.Select((count, i) => new Frame((byte)(i + 1), [(byte)i, 7], Enumerable.Range(0, count).Select(v => v * 0.5f - i).ToArray())).ToList();
        var arrived = new BlockingCollection<Frame>();
        receiver.StartReading((_, _, _) => default, arrived.Add, _ => arrived.CompleteAdding());

        frames.ForEach(frame => Assert.True(sender.Send(frame)));
        var received = await Task.Run(() => frames.Select(_ => arrived.Take(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token)).ToList());

        Assert.Equal(frames.Select(f => (f.Kind, f.Header[0], f.Header[1])), received.Select(f => (f.Kind, f.Header[0], f.Header[1])));
        for (var i = 0; i < frames.Count; i++)
        {
            Assert.Equal(frames[i].Values.ToArray(), received[i].Values.ToArray());
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)] // the runtime may leave a socket non-blocking: writes then stop short and wait to go on
    public async Task Frames_queued_faster_than_the_socket_takes_them_arrive_whole_and_in_order(bool blockingSender)
    {
        using var pair = await SocketPair.ConnectAsync();
        var (client, accepted) = (pair.Client, pair.Accepted);
        using var sender = new FrameConnection(client);
        client.Client.Blocking = blockingSender;
        using var receiver = new FrameConnection(accepted);
        // 24 MiB queued before anyone reads: far more than both socket buffers hold, so the gathered writes
        // stop part-way through pieces and go on from there. Large frames are views at an offset into a
        // larger array, as gradient chunks are; small ones sit between them, as step starts and ends do.
        var backing = Enumerable.Range(0, (3 << 20) + 5).Select(v => (float)v).ToArray();
        var frames = new List<Frame>();
        for (var i = 0; i < 16; i++)
        {
            var offset = 5 + (i % 4) * 7;
            frames.Add(new Frame(1, [(byte)i], new ArraySegment<float>(backing, offset, (3 << 19) - i)));
            frames.Add(new Frame(2, [(byte)i, 1], Enumerable.Range(0, i).Select(v => -v * 0.25f).ToArray()));
        }
        frames.ForEach(frame => Assert.True(sender.Send(frame)));
        var arrived = new BlockingCollection<Frame>();

        receiver.StartReading((_, _, _) => default, arrived.Add, _ => arrived.CompleteAdding());
        var received = await Task.Run(() => frames.Select(_ => arrived.Take(new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token)).ToList());

        Assert.Equal(frames.Select(f => (f.Kind, f.Header.Length, f.Header[0])), received.Select(f => (f.Kind, f.Header.Length, f.Header[0])));
        for (var i = 0; i < frames.Count; i++)
        {
            Assert.True(frames[i].Values.AsSpan().SequenceEqual(received[i].Values.AsSpan()), $"frame {i}'s floats differ");
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Disposing_a_connection_whose_writer_waits_on_a_full_socket_closes_it(bool blockingSender)
    {
        using var pair = await SocketPair.ConnectAsync();
        var (client, accepted) = (pair.Client, pair.Accepted);
        var sender = new FrameConnection(client);
        client.Client.Blocking = blockingSender;
        using var receiver = new FrameConnection(accepted);
        var floats = new float[4 << 20];
        for (var i = 0; i < 8; i++)
        {
            Assert.True(sender.Send(new Frame(1, [(byte)i], floats))); // 128 MiB: the writer soon waits for a reader
        }
        // Bytes have arrived, so the writer is inside its 128 MiB, which cannot leave without a reader.
        Assert.True(SpinWait.SpinUntil(() => accepted.Available > 0, TimeSpan.FromSeconds(30)));
        var closed = new TaskCompletionSource<Exception?>();

        sender.Dispose();
        receiver.StartReading((_, _, _) => default, _ => { }, error => closed.TrySetResult(error));

        var ended = await Task.WhenAny(closed.Task, Task.Delay(TimeSpan.FromSeconds(30)));
        Assert.True(ended == closed.Task, "the receiver never saw the connection close: the disposed sender still holds its socket");
        Assert.False(sender.Send(new Frame(1, [], floats)));
    }
}
