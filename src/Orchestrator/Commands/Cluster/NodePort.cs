using System.Net;
using System.Net.Sockets;

namespace Orchestrator.Cli.Commands.Cluster;

/// <summary>
/// The node's cluster port, checked before Akka.Remote binds it: Akka reports a taken port only as a logged
/// stack trace and a nested AggregateException.
/// </summary>
internal static class NodePort
{
    public static void EnsureFree(string hostname, int port)
    {
        IPAddress[] addresses;
        try
        {
            addresses = Dns.GetHostAddresses(hostname);
        }
        catch (SocketException)
        {
            return; // Akka names a host it cannot resolve itself
        }
        foreach (var address in addresses)
        {
            try
            {
                using var listener = new TcpListener(address, port);
                listener.Start();
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
            {
                throw new UsageException($"port {port} on {hostname} is already in use (another node, or another program); stop it or give this node another --port");
            }
        }
    }
}
