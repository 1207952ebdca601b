using System.Net;
using Orchestrator.Cli.Commands;
using Prometheus;

namespace Orchestrator.Cli.Terminal;

/// <summary>
/// Serves the process's Prometheus metrics while a command runs, when a port is given: on 127.0.0.1 for
/// train, on the node's own address for a cluster node (so a Prometheus elsewhere can scrape it).
/// </summary>
internal sealed class MetricsEndpoint : IDisposable
{
    private readonly MetricServer? _server;

    private MetricsEndpoint(MetricServer? server) => _server = server;

    public static MetricsEndpoint Start(int? port, string hostname = "127.0.0.1")
    {
        if (port is null)
        {
            return new MetricsEndpoint(null);
        }
        if (port is < 1 or > 65535)
        {
            throw new UsageException($"--metrics-port {port} is not a TCP port (1-65535)");
        }
        var server = new MetricServer(hostname: hostname, port: port.Value);
        try
        {
            server.Start();
        }
        catch (HttpListenerException e)
        {
            throw new UsageException($"cannot serve metrics on {hostname}:{port} ({e.Message}); choose another --metrics-port");
        }
        Console.Error.WriteLine($"metrics: http://{hostname}:{port}/metrics");
        return new MetricsEndpoint(server);
    }

    public void Dispose() => _server?.Stop();
}
