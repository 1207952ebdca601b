using System.Net.Sockets;
using System.Text;
using Akka.Actor;
using Orchestrator.Actors.Protocol;

namespace Orchestrator.Actors.Gradients;

/// <summary>
/// Where a remote rank sends its gradients: the supervisor's hub, the hub's token and this rank actor's link
/// id; <paramref name="Tls"/> when the hub speaks TLS (the cluster runs Akka.Remote over TLS).
/// </summary>
public sealed record GradientLinkAddress(string Host, int Port, string Token, string LinkId, bool Tls = false);

/// <summary>The gradient link's frame kinds and its hello, shared by the hub and the rank's end.</summary>
internal static class GradientFrames
{
    public const byte Hello = (byte)'H';
    public const byte Gradient = (byte)'G';
    public const byte Averaged = (byte)'A';
    public const byte StepStart = (byte)'C';
    public const byte StepEnd = (byte)'S';

    public static Frame HelloFrame(string token, string linkId) => new(Hello, Encoding.UTF8.GetBytes($"{token}\n{linkId}"), ArraySegment<float>.Empty);

    public static Frame Of(byte kind, object message)
    {
        var (header, values) = FloatArrayMessageSerializer.Split(message);
        return new Frame(kind, header, values);
    }

    public static Frame Of(ComputeGradients compute) => new(StepStart, StepMessageCodec.Encode(compute), ArraySegment<float>.Empty);

    public static Frame Of(StepApplied applied) => new(StepEnd, StepMessageCodec.Encode(applied), ArraySegment<float>.Empty);

    /// <summary>
    /// Reads the chunks of <paramref name="kind"/> that come on <paramref name="connection"/> into their places
    /// in one array kept for it (see <see cref="ChunkLanding"/>) and tells each to <paramref name="receiver"/>
    /// as its message, and the step messages of <paramref name="stepKind"/> likewise; frames of other kinds
    /// are read and dropped.
    /// </summary>
    public static void LandChunks(FrameConnection connection, byte kind, byte stepKind, IActorRef receiver, Action<Exception?> onClosed)
    {
        var manifest = ((char)kind).ToString(); // the frame kinds are the serializer's manifests
        var landing = new ChunkLanding();
        connection.StartReading(
            (frameKind, header, count) => frameKind != kind ? default : FloatArrayMessageSerializer.Join(manifest, header, ArraySegment<float>.Empty) switch
            {
                GradientChunk g => landing.Place(g.Index, g.Count, g.TotalLength, count),
                AveragedChunk a => landing.Place(a.Index, a.Count, a.TotalLength, count),
                _ => default,
            },
            frame =>
            {
                if (frame.Kind == kind)
                {
                    receiver.Tell(FloatArrayMessageSerializer.Join(manifest, frame.Header, frame.Values));
                }
                else if (frame.Kind == stepKind)
                {
                    receiver.Tell(stepKind == StepStart ? StepMessageCodec.DecodeCompute(frame.Header) : StepMessageCodec.DecodeApplied(frame.Header));
                }
            },
            onClosed);
    }
}

/// <summary>
/// A remote rank's end of its gradient link: gradient chunks and step ends go to the supervisor's hub as raw
/// frames, and averaged chunks and step starts come back to the rank actor as messages. Akka.Remote carries
/// everything else.
/// </summary>
internal sealed class GradientLinkClient : IDisposable
{
    private readonly FrameConnection _connection;

    private GradientLinkClient(FrameConnection connection) => _connection = connection;

    /// <summary>
    /// Connects (with TLS as <paramref name="tls"/>, this node's settings, says) and says hello; averaged chunks,
    /// step starts and the link's end are told to <paramref name="rank"/>.
    /// </summary>
    public static GradientLinkClient Connect(GradientLinkAddress address, IActorRef rank, GradientLinkTls? tls = null)
    {
        if (address.Tls && tls is null)
        {
            throw new IOException($"the gradient link to {address.Host}:{address.Port} runs TLS but this node has no akka.remote.dot-netty.tcp.enable-ssl: give every node the same --config");
        }
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
        FrameConnection connection;
        try
        {
            client.ReceiveTimeout = 10_000; // a hub that never finishes the handshake must not hold this rank's start
            connection = new FrameConnection(client, address.Tls ? tls!.ConnectOn(client.GetStream(), address.Host, address.Port) : null);
            client.ReceiveTimeout = 0;
        }
        catch (IOException)
        {
            client.Dispose();
            throw;
        }
        connection.Send(GradientFrames.HelloFrame(address.Token, address.LinkId));
        GradientFrames.LandChunks(connection, GradientFrames.Averaged, GradientFrames.StepStart, rank,
            error => rank.Tell(new GradientLinkClosed(error?.Message ?? "closed by the supervisor's side")));
        return new GradientLinkClient(connection);
    }

    /// <summary>False when the link is closed.</summary>
    public bool Send(GradientChunk chunk) => _connection.Send(GradientFrames.Of(GradientFrames.Gradient, chunk));

    /// <summary>False when the link is closed (then the step end goes by Akka, as every answer can).</summary>
    public bool Send(StepApplied applied) => _connection.Send(GradientFrames.Of(applied));

    public void Dispose() => _connection.Dispose();
}

/// <summary>Told to a rank whose gradient link ended: without it the rank cannot take part in a step.</summary>
internal sealed record GradientLinkClosed(string Why);
