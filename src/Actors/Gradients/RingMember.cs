using System.Buffers;
using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Numerics;
using System.Runtime.InteropServices;

namespace Orchestrator.Actors.Gradients;

/// <summary>What a rank needs to take its place in the ring of one generation.</summary>
internal sealed record RingJoin(string Token, int Generation, int Rank, int World, string NextEndpoint, TimeSpan Timeout, GradientWireType WireType,
    int BucketLength = RingLayout.DefaultBucketLength);

/// <summary>One step's result: the averaged gradients (in the rank's own array), the ranks' mean loss and their samples.</summary>
internal sealed record RingReduced(float[] Averaged, double MeanLoss, long GlobalSamples);

/// <summary>A ring neighbour failed or went silent: the failure is the neighbour's, named by <see cref="Peer"/>.</summary>
internal sealed class RingPeerException(int peer, string message, Exception? inner = null, bool linkClosed = false) : IOException(message, inner)
{
    public int Peer { get; } = peer;

    /// <summary>The neighbour's link closed (rather than went silent, or sent what it should not).</summary>
    public bool LinkClosed { get; } = linkClosed;
}

/// <summary>
/// One rank's place in the ring of one generation: a link to the next rank it sends on, a link from the
/// previous rank it receives on, and the all-reduce of a step over them (see <see cref="RingLayout"/>). Used
/// on the rank's thread only, but for <see cref="Abort"/>. A closed link or a silent neighbour ends the step
/// with a <see cref="RingPeerException"/>: no rank waits for ever. A neighbour that sent nothing of the step
/// is named after the join's timeout; one that sent part of it is itself waiting further up the ring, so it is
/// named only after twice that, by when the rank behind the silent one has named it and the restart has
/// ended this wait.
/// </summary>
internal sealed class RingMember : IGradientCollective, IDisposable
{
    private readonly RingJoin _join;
    private readonly FrameConnection _next;
    private readonly FrameConnection _previous;
    private readonly BlockingCollection<Frame> _incoming = [];
    private readonly CancellationTokenSource _abort;
    private ClosedLink? _closed;
    private float[] _wire = [];
    private float[] _decoded = [];
    // Whether the previous rank sent any segment of the step in progress.
    private bool _heardThisStep;

    private RingMember(RingJoin join, FrameConnection next, FrameConnection previous, CancellationToken cancel)
    {
        _join = join;
        _next = next;
        _previous = previous;
        _abort = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        // Floats land in pooled arrays, handed back once summed or kept: a step allocates nothing.
        previous.StartReading(
            (kind, _, count) => kind == RingFrames.Segment ? new ArraySegment<float>(ArrayPool<float>.Shared.Rent(count), 0, count) : default,
            Arrived,
            error => Closed(Previous, $"the ring link from rank {Previous} closed ({error?.Message ?? "its end closed it"})"));
        // Nothing comes from the next rank; reading only tells when its end is gone.
        next.StartReading((_, _, _) => default, _ => { }, error => Closed(Next, $"the ring link to rank {Next} closed ({error?.Message ?? "its end closed it"})"));
    }

    public int Generation => _join.Generation;

    public int Rank => _join.Rank;

    public int World => _join.World;

    private int Next => (Rank + 1) % World;

    private int Previous => (Rank + World - 1) % World;

    /// <summary>Frames of another generation that came on this ring's link and were dropped unused.</summary>
    public int StaleFramesRefused { get; private set; }

    /// <summary>
    /// Opens the link to the next rank (whose listener is open: it answered ready) and takes the previous
    /// rank's from <paramref name="listener"/>. Throws <see cref="RingPeerException"/> naming the neighbour
    /// that could not be reached.
    /// </summary>
    public static RingMember Join(RingListener listener, RingJoin join, GradientLinkTls? tls, CancellationToken cancel)
    {
        var nextRank = (join.Rank + 1) % join.World;
        var previousRank = (join.Rank + join.World - 1) % join.World;
        var next = Connect(join, nextRank, tls, cancel);
        FrameConnection previous;
        try
        {
            previous = listener.Take(join.Token, join.Generation, previousRank, join.Timeout, cancel);
        }
        catch (TimeoutException e)
        {
            next.Dispose();
            throw new RingPeerException(previousRank, e.Message, e);
        }
        catch
        {
            next.Dispose();
            throw;
        }
        return new RingMember(join, next, previous, cancel);
    }

    /// <summary>Ends a step in progress (from any thread): the rank has been told of a newer generation.</summary>
    public void Abort() => _abort.Cancel();

    /// <summary>
    /// Averages <paramref name="values"/> across the ring in place: on return they hold the same bytes on every
    /// rank. <paramref name="loss"/> and <paramref name="samples"/> are this rank's, told to every other.
    /// </summary>
    public RingReduced AllReduce(long step, float[] values, double loss, long samples)
    {
        var layout = new RingLayout(values.Length, World, _join.BucketLength);
        var losses = new double[World];
        var counts = new long[World];
        (losses[Rank], counts[Rank]) = (loss, samples);
        _heardThisStep = false;
        if (_join.WireType != GradientWireType.Fp32 && _wire.Length != HalfWire.SlotsFor(values.Length))
        {
            _wire = new float[HalfWire.SlotsFor(values.Length)];
        }
        for (var bucket = 0; bucket < layout.Buckets; bucket++)
        {
            Send(layout, step, 0, bucket, values, losses, counts);
        }
        // Each bucket's segment goes on as soon as it is summed (or kept): it leaves while the next is summed.
        // A failure leaves the links open: closing them would make this rank's neighbours blame it, not the
        // rank that failed. Ranks further round are freed by the restart the failure causes (a newer
        // generation aborts their step; a stopped rank closes its links), or by their timeout.
        for (var exchange = 0; exchange < layout.Exchanges; exchange++)
        {
            for (var bucket = 0; bucket < layout.Buckets; bucket++)
            {
                Receive(layout, step, exchange, bucket, values, losses, counts);
                if (exchange + 1 < layout.Exchanges)
                {
                    Send(layout, step, exchange + 1, bucket, values, losses, counts);
                }
            }
        }
        // The last segments sent are views of values, which the rank changes as soon as this returns (it applies
        // them, then writes its next gradients there): they must have left first. Found when the next step began
        // on the first rank's step end: a neighbour then received part of the next step's gradients.
        if (!_next.WaitUntilWritten(_join.Timeout))
        {
            throw new RingPeerException(Next, Volatile.Read(ref _closed)?.Why ?? $"the ring link to rank {Next} did not take this step's last segments within {_join.Timeout.TotalSeconds:0.#} s", linkClosed: true);
        }
        return new RingReduced(values, losses.Sum() / World, counts.Sum());
    }

    public void Dispose()
    {
        _abort.Cancel();
        _next.Dispose();
        _previous.Dispose();
    }

    /// <summary>For tests: a frame as this rank's link would carry it, whatever it says.</summary>
    internal bool SendRaw(Frame frame) => _next.Send(frame);

    private void Send(RingLayout layout, long step, int exchange, int bucket, float[] values, double[] losses, long[] counts)
    {
        var (offset, count) = layout.Segment(bucket, layout.SentAt(Rank, exchange));
        var carried = layout.Reduces(exchange) ? layout.SentAt(Rank, exchange) : -1; // the rank whose loss rides along
        var header = new RingHeader(Generation, step, exchange, bucket, carried, carried < 0 ? 0 : losses[carried], carried < 0 ? 0 : counts[carried]);
        ArraySegment<float> payload = new(values, offset, count);
        if (Halved(layout, exchange))
        {
            payload = new ArraySegment<float>(_wire, offset / 2, HalfWire.SlotsFor(count));
            HalfWire.Encode(_join.WireType, values.AsSpan(offset, count), payload);
        }
        if (!_next.Send(RingFrames.Of(header, payload)))
        {
            throw new RingPeerException(Next, Volatile.Read(ref _closed)?.Why ?? $"the ring link to rank {Next} closed", linkClosed: true);
        }
    }

    private void Receive(RingLayout layout, long step, int exchange, int bucket, float[] values, double[] losses, long[] counts)
    {
        var (frame, header) = Take();
        try
        {
            var (offset, count) = layout.Segment(bucket, layout.ReceivedAt(Rank, exchange));
            var slots = Halved(layout, exchange) ? HalfWire.SlotsFor(count) : count;
            if (header.Step != step || header.Exchange != exchange || header.Bucket != bucket || frame.Values.Count != slots)
            {
                throw new RingPeerException(Previous,
                    $"rank {Previous} sent step {header.Step} exchange {header.Exchange} bucket {header.Bucket} ({frame.Values.Count} floats) where step {step} exchange {exchange} bucket {bucket} ({slots}) was due");
            }
            if (layout.Reduces(exchange) && header.ScalarRank >= 0 && header.ScalarRank < World)
            {
                (losses[header.ScalarRank], counts[header.ScalarRank]) = (header.Loss, header.Samples);
            }
            ReadOnlySpan<float> incoming = frame.Values;
            if (Halved(layout, exchange))
            {
                if (_decoded.Length < count)
                {
                    _decoded = new float[Math.Max(count, RingLayout.DefaultBucketLength)];
                }
                HalfWire.Decode(_join.WireType, incoming, _decoded.AsSpan(0, count));
                incoming = _decoded.AsSpan(0, count);
            }
            var own = values.AsSpan(offset, count);
            if (!layout.Reduces(exchange))
            {
                incoming.CopyTo(own);
                return;
            }
            AddInto(incoming, own);
            if (exchange == layout.LastReduce)
            {
                // This rank holds the whole sum of the segment: it averages it, once, for every rank.
                DivideInPlace(own, World);
                if (_join.WireType != GradientWireType.Fp32)
                {
                    HalfWire.Round(_join.WireType, own); // what every other rank will decode
                }
            }
        }
        finally
        {
            if (frame.Values.Array is { } pooled)
            {
                ArrayPool<float>.Shared.Return(pooled);
            }
        }
    }

    /// <summary>
    /// Whether exchange <paramref name="exchange"/> travels at half precision: only the averages do. Partial sums
    /// go in fp32, so a segment is summed in fp32 exactly as in one process and rounded once, by its owner.
    /// </summary>
    private bool Halved(RingLayout layout, int exchange) => _join.WireType != GradientWireType.Fp32 && !layout.Reduces(exchange);

    /// <summary>The next frame of this generation; frames of another are dropped.</summary>
    private (Frame Frame, RingHeader Header) Take()
    {
        while (true)
        {
            // A rank that hangs before its first send is named by the next rank alone: every other waits on a
            // previous rank that did send, and has only stopped because it waits too.
            var timeout = _heardThisStep ? 2 * _join.Timeout : _join.Timeout;
            if (!_incoming.TryTake(out var taken, (int)timeout.TotalMilliseconds, _abort.Token))
            {
                // A link that closed ends the wait at once (the collection is completed), a silent one at the timeout.
                var (peer, why) = _incoming.IsCompleted
                    ? Volatile.Read(ref _closed) ?? new ClosedLink(Previous, $"the ring link from rank {Previous} closed")
                    : new ClosedLink(Previous, _heardThisStep
                        ? $"rank {Previous} sent part of its gradients on the ring, then nothing within {timeout.TotalSeconds:0.#} s"
                        : $"rank {Previous} sent no gradients on the ring within {timeout.TotalSeconds:0.#} s");
                throw new RingPeerException(peer, why, linkClosed: _incoming.IsCompleted);
            }
            var frame = taken!;
            var header = RingFrames.ReadHeader(frame.Header);
            if (header.Generation == Generation)
            {
                _heardThisStep = true;
                return (frame, header);
            }
            StaleFramesRefused++;
            if (frame.Values.Array is { } pooled)
            {
                ArrayPool<float>.Shared.Return(pooled);
            }
        }
    }

    private void Arrived(Frame frame)
    {
        if (frame.Kind != RingFrames.Segment)
        {
            return;
        }
        try
        {
            _incoming.Add(frame);
        }
        catch (InvalidOperationException)
        {
        }
    }

    private sealed record ClosedLink(int Peer, string Why);

    private void Closed(int peer, string why)
    {
        Interlocked.CompareExchange(ref _closed, new ClosedLink(peer, why), null); // the first link to close says why
        _incoming.CompleteAdding();
    }

    private static FrameConnection Connect(RingJoin join, int nextRank, GradientLinkTls? tls, CancellationToken cancel)
    {
        var colon = join.NextEndpoint.LastIndexOf(':');
        var (host, port) = (join.NextEndpoint[..colon], int.Parse(join.NextEndpoint[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture));
        var client = new TcpClient();
        try
        {
            using var within = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            within.CancelAfter(join.Timeout);
            client.ConnectAsync(host, port, within.Token).AsTask().GetAwaiter().GetResult();
            client.ReceiveTimeout = (int)join.Timeout.TotalMilliseconds; // the TLS handshake, not the link's life
            var connection = new FrameConnection(client, tls?.ConnectOn(client.GetStream(), host, port));
            client.ReceiveTimeout = 0;
            connection.Send(RingFrames.HelloFrame(new RingHello(join.Token, join.Generation, join.Rank)));
            return connection;
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException)
        {
            client.Dispose();
            throw new RingPeerException(nextRank, $"cannot open the ring link to rank {nextRank} at {join.NextEndpoint} ({e.Message})", e);
        }
    }

    private static void AddInto(ReadOnlySpan<float> incoming, Span<float> own)
    {
        var width = Vector<float>.Count;
        var whole = own.Length - (own.Length % width);
        var a = MemoryMarshal.Cast<float, Vector<float>>(incoming[..whole]);
        var b = MemoryMarshal.Cast<float, Vector<float>>(own[..whole]);
        for (var i = 0; i < b.Length; i++)
        {
            b[i] = a[i] + b[i];
        }
        for (var i = whole; i < own.Length; i++)
        {
            own[i] = incoming[i] + own[i];
        }
    }

    private static void DivideInPlace(Span<float> values, int divisor)
    {
        var width = Vector<float>.Count;
        var whole = values.Length - (values.Length % width);
        var vectors = MemoryMarshal.Cast<float, Vector<float>>(values[..whole]);
        var by = new Vector<float>(divisor);
        for (var i = 0; i < vectors.Length; i++)
        {
            vectors[i] /= by;
        }
        for (var i = whole; i < values.Length; i++)
        {
            values[i] /= divisor;
        }
    }
}
