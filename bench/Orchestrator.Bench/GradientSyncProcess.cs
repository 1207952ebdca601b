using System.Net.Sockets;
using Akka.Actor;
using Akka.Configuration;
using Orchestrator.Actors.Cluster;
using Orchestrator.Actors.Gradients;

namespace Orchestrator.Bench;

/// <summary>
/// The second process of the gradient-sync row: rank 1 over Akka.Remote with the cluster's wire settings,
/// and the echo end of the plain TCP baseline, on the same loopback link.
/// </summary>
internal static class GradientSyncProcess
{
    public const string Flag = "--grad-peer";

    /// <summary>One rank's flattened gradients; it sends views of this array, as a rank does.</summary>
    public static float[] GradientsOf(int totalLength, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, totalLength).Select(_ => (float)random.NextDouble()).ToArray();
    }

    /// <summary>Entry point of the peer process: <c>--grad-peer REDUCER-PATH FLOATS TCP-PORT [LINK-PORT TOKEN LINK-ID [TLS-CONFIG]]</c>.</summary>
    public static int Run(string[] args)
    {
        var (reducerPath, totalLength, tcpPort) = (args[1], int.Parse(args[2]), int.Parse(args[3]));
        var tls = args.Length > 7 ? GradientLinkTls.FromConfig(ConfigurationFactory.ParseString(File.ReadAllText(args[7]))) : null;
        var link = args.Length > 4 ? new GradientLinkAddress("127.0.0.1", int.Parse(args[4]), args[5], args[6], tls is not null) : null;
        using var system = ActorSystem.Create("bench-peer", ClusterSettings.ClientConfig("127.0.0.1", null));
        var reducer = system.ActorSelection(reducerPath);
        system.ActorOf(Akka.Actor.Props.Create(() => new GradientSyncPeer(reducer, totalLength, link, tls)), "peer");
        using var client = new TcpClient { NoDelay = true };
        client.Connect("127.0.0.1", tcpPort);
        // Over TLS, a second connection on the same listener: the TLS copy the link over TLS is compared to.
        using var tlsClient = tls is null ? null : new TcpClient { NoDelay = true };
        tlsClient?.Connect("127.0.0.1", tcpPort);
        using var tlsStream = tlsClient is null ? null : tls!.ConnectOn(tlsClient.GetStream(), "127.0.0.1", tcpPort);
        Console.Out.WriteLine($"ready {((ExtendedActorSystem)system).Provider.DefaultAddress}/user/peer");
        Console.Out.Flush();
        var tlsEcho = tlsStream is null ? Task.CompletedTask : Task.Factory.StartNew(() => Echo(tlsStream), TaskCreationOptions.LongRunning);
        Echo(client.GetStream());
        tlsEcho.GetAwaiter().GetResult();
        return 0;
    }

    // A baseline's other end: every byte read is written straight back, until the host closes.
    private static void Echo(Stream stream)
    {
        var buffer = new byte[1 << 20];
        int read;
        while ((read = stream.Read(buffer)) > 0)
        {
            stream.Write(buffer, 0, read);
        }
    }
}
