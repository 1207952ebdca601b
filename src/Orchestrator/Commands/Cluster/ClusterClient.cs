using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Akka.Actor;
using Orchestrator.Actors.Cluster;
using Orchestrator.Actors.Hosting;

namespace Orchestrator.Cli.Commands.Cluster;

/// <summary>
/// A short-lived connection from a command (submit, status, stop, drain) to the cluster's coordinator,
/// through the singleton proxy on the node named by --cluster. The client is never a cluster member.
/// </summary>
internal sealed class ClusterClient : IDisposable
{
    public const string ProxyName = OrchestratorNode.CoordinatorProxyName;
    public const string ClientConfigVariable = "ORCHESTRATOR_CLIENT_CONFIG";

    private readonly ActorSystem _system;
    private readonly ActorSelection _coordinator;

    /// <param name="secret">The cluster secret (--secret-file or ORCHESTRATOR_SECRET); null or empty for none.</param>
    public ClusterClient(string hostPort, string? secret)
    {
        HostPort = hostPort;
        Credentials = new ClusterCredentials(secret ?? "", []);
        _system = OrchestratorActorSystem.Named("orchestrator-client").WithHocon(ClientConfig(hostPort)).Build();
        _coordinator = _system.ActorSelection($"{ClusterSettings.AddressOf(hostPort, _system.Settings.Config)}/user/{ProxyName}");
    }

    public string HostPort { get; }

    /// <summary>The client's proof of the secret for orders and questions; the secret itself never travels.</summary>
    public ClusterCredentials Credentials { get; }

    /// <summary>The cluster's nodes and jobs, asked with proof of the secret; a refusal is the user's to fix (one line, exit 2).</summary>
    public ClusterStatus Status(TimeSpan timeout) =>
        Ask<object>(new GetClusterStatus(Credentials.Prove(GetClusterStatus.ProofSubject)), timeout) switch
        {
            ClusterStatus status => status,
            ClusterStatusRefused when Credentials.IsOpen => throw new UsageException(
                $"the cluster at {HostPort} has a secret and this client none: give --secret-file FILE or set ORCHESTRATOR_SECRET (the nodes' secret)"),
            ClusterStatusRefused refused => throw new UsageException(refused.Reason),
            var other => throw new InvalidOperationException($"the cluster at {HostPort} answered a status question with {other.GetType().Name}"),
        };

    public T Ask<T>(object message, TimeSpan timeout)
    {
        try
        {
            return _coordinator.Ask<T>(message, timeout).GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is AskTimeoutException or TaskCanceledException)
        {
            throw new ClusterUnreachableException($"no answer from the cluster at {HostPort} within {timeout.TotalSeconds:0} s (is a node running there, and has the cluster formed?)");
        }
    }

    public void Dispose() => _system.Terminate().Wait(TimeSpan.FromSeconds(10));

    private static Akka.Configuration.Config ClientConfig(string hostPort)
    {
        try
        {
            return ClusterSettings.ClientConfig(LocalAddressFacing(hostPort), ClientConfigFile());
        }
        catch (Orchestrator.Actors.Configuration.HoconFileException e)
        {
            throw new UsageException($"{ClientConfigVariable}: {e.Message}");
        }
    }

    // A cluster with TLS needs the same remoting settings on its clients; no flag for it, since --config
    // already means the job's config file to submit.
    private static string? ClientConfigFile()
    {
        var file = Environment.GetEnvironmentVariable(ClientConfigVariable);
        if (string.IsNullOrEmpty(file))
        {
            return null;
        }
        return File.Exists(file) ? file : throw new UsageException($"{ClientConfigVariable} names {file}, which does not exist (point it at the HOCON file the nodes use, e.g. cluster-config/tls.hocon)");
    }

    // Replies come back to this process, so it must listen on an address the node can reach: loopback for a
    // local cluster, otherwise this machine's first non-loopback IPv4 address.
    private static string LocalAddressFacing(string hostPort)
    {
        var host = hostPort[..hostPort.LastIndexOf(':')];
        if (host is "localhost" || IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip))
        {
            return "127.0.0.1";
        }
        return NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == OperationalStatus.Up && n.NetworkInterfaceType != NetworkInterfaceType.Loopback)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork)?.ToString() ?? "127.0.0.1";
    }
}

internal sealed class ClusterUnreachableException(string message) : Exception(message);
