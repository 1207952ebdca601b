using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace Orchestrator.Actors.Gradients;

/// <summary>
/// Where a rank takes the ring link of the rank before it. Opened when the rank starts (its address goes to
/// the supervisor in its ready answer), it accepts connections that say a ring hello and holds them until the
/// rank joins the ring of their generation; a connection of an older generation is closed unused, so a link
/// left over from before a restart can never feed a later ring.
/// </summary>
internal sealed class RingListener : IDisposable
{
    private readonly TcpListener _listener;
    private readonly GradientLinkTls? _tls;
    private readonly BlockingCollection<(RingHello Hello, FrameConnection Connection)> _arrived = [];
    // Connections of a later generation than the ring being joined: kept for that one.
    private readonly List<(RingHello Hello, FrameConnection Connection)> _early = [];

    public RingListener(string host, GradientLinkTls? tls)
    {
        _tls = tls;
        // Every interface, as the supervisor's hub: the advertised host may be a name; the token keeps strangers out.
        _listener = new TcpListener(IPAddress.Any, 0);
        _listener.Start();
        Endpoint = $"{host}:{((IPEndPoint)_listener.LocalEndpoint).Port}";
        _ = Task.Run(() => TcpAcceptLoop.Run(_listener, Serve));
    }

    /// <summary>host:port, as the rank before this one connects to it.</summary>
    public string Endpoint { get; }

    /// <summary>
    /// The link rank <paramref name="from"/> opened for the ring of <paramref name="generation"/>; throws
    /// TimeoutException when none comes within <paramref name="timeout"/>.
    /// </summary>
    public FrameConnection Take(string token, int generation, int from, TimeSpan timeout, CancellationToken cancel)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            (RingHello Hello, FrameConnection Connection) arrival;
            var kept = _early.FindIndex(e => e.Hello.Generation == generation);
            if (kept >= 0)
            {
                arrival = _early[kept];
                _early.RemoveAt(kept);
            }
            else if (!_arrived.TryTake(out arrival, (int)Remaining(deadline).TotalMilliseconds, cancel))
            {
                throw new TimeoutException($"rank {from} did not open its ring link within {timeout.TotalSeconds:0.#} s");
            }
            var (hello, connection) = arrival;
            if (!CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(hello.Token), Encoding.UTF8.GetBytes(token)))
            {
                connection.Dispose();
            }
            else if (hello.Generation > generation)
            {
                _early.Add(arrival);
            }
            else if (hello.Generation == generation && hello.From == from)
            {
                return connection;
            }
            else
            {
                connection.Dispose(); // a stale generation's link: refused
            }
        }
    }

    public void Dispose()
    {
        _listener.Stop();
        _arrived.CompleteAdding();
        foreach (var (_, connection) in _arrived)
        {
            connection.Dispose();
        }
        foreach (var (_, connection) in _early)
        {
            connection.Dispose();
        }
    }

    private static TimeSpan Remaining(DateTime deadline) => deadline - DateTime.UtcNow is var left && left > TimeSpan.Zero ? left : TimeSpan.Zero;

    private void Serve(TcpClient client)
    {
        // A connection that never finishes its handshake or says hello must not hold this thread for ever.
        client.ReceiveTimeout = 10_000;
        FrameConnection? connection = null;
        try
        {
            connection = new FrameConnection(client, _tls?.AcceptOn(client.GetStream()));
            if (RingFrames.ReadHello(connection.ReadFrame()) is { } hello)
            {
                client.ReceiveTimeout = 0;
                _arrived.Add((hello, connection));
                return;
            }
        }
        catch (Exception e) when (e is IOException or InvalidDataException or SocketException or InvalidOperationException or ObjectDisposedException)
        {
        }
        connection?.Dispose();
        client.Dispose();
    }
}
