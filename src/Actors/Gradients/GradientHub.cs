using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Akka.Actor;
using Orchestrator.Actors.Protocol;

namespace Orchestrator.Actors.Gradients;

/// <summary>
/// The supervisor's end of the gradient links of its remote ranks: a TCP listener that takes each rank's
/// gradient chunks and step ends as raw frames and tells them to the supervisor, and sends step starts and
/// averaged chunks back on the same connection. Akka.Remote moves large messages at tens of MB/s; a socket
/// moves them at the link's speed. A connection must say hello with the job's random token before anything
/// it sends counts.
/// </summary>
internal sealed class GradientHub : IDisposable
{
    private readonly TcpListener _listener;
    private readonly string _host;
    private readonly IActorRef _supervisor;
    private readonly ConcurrentDictionary<string, FrameConnection> _links = new();
    private readonly string _token = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));

    private readonly GradientLinkTls? _tls;

    /// <summary>With <paramref name="tls"/>, every link is a TLS connection (see <see cref="GradientLinkTls"/>).</summary>
    public GradientHub(string host, IActorRef supervisor, GradientLinkTls? tls = null)
    {
        _host = host;
        _supervisor = supervisor;
        _tls = tls;
        // Every interface: the advertised host may be a name or a container address; the token keeps strangers out.
        _listener = new TcpListener(IPAddress.Any, 0);
        _listener.Start();
        _ = Task.Run(() => TcpAcceptLoop.Run(_listener, Serve));
    }

    public GradientLinkAddress AddressFor(string linkId) => new(_host, ((IPEndPoint)_listener.LocalEndpoint).Port, _token, linkId, _tls is not null);

    /// <summary>Sends an averaged chunk on the rank's link; false when that rank has no link open (then use Akka).</summary>
    public bool TrySend(string linkId, AveragedChunk chunk) =>
        _links.TryGetValue(linkId, out var link) && link.Send(GradientFrames.Of(GradientFrames.Averaged, chunk));

    /// <summary>Starts the rank's step on its link; false when that rank has no link open (then use Akka).</summary>
    public bool TrySend(string linkId, ComputeGradients compute) =>
        _links.TryGetValue(linkId, out var link) && link.Send(GradientFrames.Of(compute));

    public void Dispose()
    {
        _listener.Stop();
        foreach (var link in _links.Values)
        {
            link.Dispose();
        }
    }

    private void Serve(TcpClient client)
    {
        FrameConnection connection;
        // A connection that never finishes its handshake or says hello must not hold this thread for ever.
        client.ReceiveTimeout = 10_000;
        try
        {
            connection = new FrameConnection(client, _tls?.AcceptOn(client.GetStream()));
        }
        catch (Exception e) when (e is IOException or SocketException)
        {
            client.Dispose();
            return;
        }
        string? linkId = null;
        try
        {
            if (connection.ReadFrame() is { Kind: GradientFrames.Hello } hello)
            {
                linkId = Accepted(hello.Header);
            }
            client.ReceiveTimeout = 0;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or SocketException)
        {
            linkId = null;
        }
        if (linkId is null)
        {
            connection.Dispose();
            return;
        }
        _links.AddOrUpdate(linkId, connection, (_, old) =>
        {
            old.Dispose();
            return connection;
        });
        GradientFrames.LandChunks(connection, GradientFrames.Gradient, GradientFrames.StepEnd, _supervisor,
            _ => _links.TryRemove(new KeyValuePair<string, FrameConnection>(linkId, connection)));
    }

    private string? Accepted(byte[] hello)
    {
        var text = Encoding.UTF8.GetString(hello);
        var newline = text.IndexOf('\n');
        if (newline < 0)
        {
            return null;
        }
        var token = Encoding.UTF8.GetBytes(text[..newline]);
        return CryptographicOperations.FixedTimeEquals(token, Encoding.UTF8.GetBytes(_token)) ? text[(newline + 1)..] : null;
    }
}
