using System.Net.Sockets;
using System.Text;
using Akka.Actor;
using Orchestrator.Actors.Cluster;

namespace Orchestrator.Actors.Rank;

/// <summary>Where a remote rank sends its gradients: the supervisor's hub, the hub's token and this rank actor's link id.</summary>
public sealed record GradientLinkAddress(string Host, int Port, string Token, string LinkId);

/// <summary>The gradient link's frame kinds and its hello, shared by the hub and the rank's end.</summary>
internal static class GradientFrames
{
    public const byte Hello = (byte)'H';
    public const byte Gradient = (byte)'G';
    public const byte Averaged = (byte)'A';

    public static Frame HelloFrame(string token, string linkId) => new(Hello, Encoding.UTF8.GetBytes($"{token}\n{linkId}"), ArraySegment<float>.Empty);

    public static Frame Of(byte kind, object message)
    {
        var (header, values) = FloatArrayMessageSerializer.Split(message);
        return new Frame(kind, header, values);
    }
}

/// <summary>
/// A remote rank's end of its gradient link: gradient chunks go to the supervisor's hub as raw frames, and
/// averaged chunks come back to the rank actor as messages. Akka.Remote carries everything else.
/// </summary>
internal sealed class GradientLinkClient : IDisposable
{
    private readonly FrameConnection _connection;

    private GradientLinkClient(FrameConnection connection) => _connection = connection;

    /// <summary>Connects and says hello; averaged chunks and the link's end are told to <paramref name="rank"/>.</summary>
    public static GradientLinkClient Connect(GradientLinkAddress address, IActorRef rank)
    {
        var client = new TcpClient();
        try
        {
            client.Connect(address.Host, address.Port);
        }
        catch (SocketException e)
        {
            client.Dispose();
            throw new IOException($"cannot open the gradient link to {address.Host}:{address.Port} ({e.Message})", e);
        }
        var connection = new FrameConnection(client);
        connection.Send(GradientFrames.HelloFrame(address.Token, address.LinkId));
        var landing = new ChunkLanding();
        connection.StartReading(
            (kind, header, count) => kind == GradientFrames.Averaged && FloatArrayMessageSerializer.Join("A", header, ArraySegment<float>.Empty) is AveragedChunk a
                ? landing.Place(a.Index, a.Count, a.TotalLength, count)
                : default,
            frame =>
            {
                if (frame.Kind == GradientFrames.Averaged)
                {
                    rank.Tell(FloatArrayMessageSerializer.Join("A", frame.Header, frame.Values));
                }
            },
            error => rank.Tell(new GradientLinkClosed(error?.Message ?? "closed by the supervisor's side")));
        return new GradientLinkClient(connection);
    }

    public void Send(GradientChunk chunk) => _connection.Send(GradientFrames.Of(GradientFrames.Gradient, chunk));

    public void Dispose() => _connection.Dispose();
}

/// <summary>Told to a rank whose gradient link ended: without it the rank cannot take part in a step.</summary>
internal sealed record GradientLinkClosed(string Why);
