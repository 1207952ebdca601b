using System.Net;
using System.Net.Sockets;

namespace Orchestrator.Cli.Commands.Cluster;

/// <summary>
/// The node's address and cluster port, checked before Akka.Remote binds them: Akka reports a host it cannot
/// resolve, an address not of this machine, a taken port or a privileged one only as a logged stack trace
/// and a nested AggregateException.
/// </summary>
internal static class NodePort
{
    public static void EnsureFree(string hostname, int port, string flag = "--port", int usual = 4053)
    {
        IPAddress[] addresses;
        try
        {
            // "0.0.0.0" (every address: the management endpoint's) is no name Dns will look up.
            addresses = hostname == "0.0.0.0" ? [IPAddress.Any] : Dns.GetHostAddresses(hostname);
        }
        catch (Exception e) when (e is SocketException or ArgumentException)
        {
            throw new UsageException($"--hostname {hostname} is neither an address nor a name that resolves ({e.Message}); give this machine's address others reach it at, e.g. 127.0.0.1 or its LAN address");
        }
        var bound = 0;
        foreach (var address in addresses)
        {
            try
            {
                using var listener = new TcpListener(address, port);
                listener.Start();
                bound++;
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
            {
                throw new UsageException($"port {port} on {hostname} is already in use (another node, or another program); stop it or give this node another {flag}");
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.AccessDenied)
            {
                throw new UsageException($"port {port} needs privileges this process lacks (ports below 1024 do); give {flag} 1024 or above, e.g. the default {usual}");
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressNotAvailable)
            {
                // One of several addresses (a name's IPv6 one on a machine without IPv6) may be absent.
            }
        }
        if (bound == 0)
        {
            throw new UsageException($"--hostname {hostname} ({string.Join(", ", addresses.Select(a => a.ToString()))}) is not an address of this machine; give one it has, e.g. 127.0.0.1 or its LAN address");
        }
    }
}
