using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Discovery;

namespace Orchestrator.Actors.Cluster;

/// <summary>
/// Akka.Discovery's config method with names looked up at every round: the contact points are the
/// management endpoints given with <c>--contact-points</c>, and a name that resolves to several addresses (a
/// Docker Compose service scaled with <c>--scale</c>) yields every one of them, so nodes started together
/// see each other as their containers appear. Each target carries its address, which is how Cluster
/// Bootstrap recognises the node's own entry.
/// </summary>
public sealed class ContactPointDiscovery : ServiceDiscovery
{
    public const string MethodName = "orchestrator-contact-points";

    private readonly (string Host, int Port)[] _contactPoints;

    public ContactPointDiscovery(ExtendedActorSystem system)
    {
        _contactPoints = system.Settings.Config.GetStringList($"akka.discovery.{MethodName}.contact-points")
            .Select(Split)
            .ToArray();
    }

    public override async Task<Resolved> Lookup(Lookup lookup, TimeSpan resolveTimeout)
    {
        using var timeout = new CancellationTokenSource(resolveTimeout);
        var targets = new List<ResolvedTarget>();
        foreach (var (host, port) in _contactPoints)
        {
            foreach (var address in await AddressesOf(host, timeout.Token))
            {
                targets.Add(new ResolvedTarget(address.ToString(), port, address));
            }
        }
        return new Resolved(lookup.ServiceName, targets.Distinct());
    }

    // A name not resolvable yet (a container not started) is no contact point this round; the next round asks again.
    private static async Task<IPAddress[]> AddressesOf(string host, CancellationToken cancel)
    {
        if (IPAddress.TryParse(host, out var literal))
        {
            return [literal];
        }
        try
        {
            var addresses = await Dns.GetHostAddressesAsync(host, cancel);
            return addresses.Where(a => a.AddressFamily == AddressFamily.InterNetwork).ToArray();
        }
        catch (SocketException)
        {
            return [];
        }
    }

    private static (string Host, int Port) Split(string hostPort)
    {
        var colon = hostPort.LastIndexOf(':');
        return (hostPort[..colon], int.Parse(hostPort.AsSpan(colon + 1), System.Globalization.CultureInfo.InvariantCulture));
    }
}
