using System.Diagnostics;
using Orchestrator.Tests.Support;

namespace Orchestrator.Tests.Cluster;

/// <summary>
/// Two nodes on 127.0.0.1 with Akka.Remote over TLS, set up as cluster-config/tls.hocon describes: a
/// self-signed certificate made with openssl, as a PFX, and certificate validation suppressed (one machine).
/// </summary>
public sealed class TlsCluster : IAsyncLifetime
{
    private readonly LocalCluster _cluster = new();

    public string ConfigFile => System.IO.Path.Combine(_cluster.Path, "tls.conf");

    public LocalCluster Local => _cluster;

    public NodeProcess Seed { get; private set; } = null!;

    public NodeProcess Worker { get; private set; } = null!;

    /// <summary>What a client needs to talk to this cluster (as a user would set it).</summary>
    public IReadOnlyDictionary<string, string> ClientEnvironment => new Dictionary<string, string>(_cluster.ClientEnvironment) { ["ORCHESTRATOR_CLIENT_CONFIG"] = ConfigFile };

    public async Task InitializeAsync()
    {
        var pfx = System.IO.Path.Combine(_cluster.Path, "node.pfx");
        var key = System.IO.Path.Combine(_cluster.Path, "node.key");
        var cert = System.IO.Path.Combine(_cluster.Path, "node.crt");
        OpenSsl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-keyout", key, "-out", cert);
        OpenSsl("pkcs12", "-export", "-inkey", key, "-in", cert, "-out", pfx, "-passout", "pass:test-only");
        File.WriteAllText(ConfigFile, $$"""
            akka.remote.dot-netty.tcp {
              enable-ssl = true
              ssl {
                suppress-validation = true
                certificate { path = "{{pfx}}", password = "test-only", use-thumbprint-over-file = false }
              }
            }
            """);

        var port = NodeProcess.FreePort();
        Seed = _cluster.Node(port, $"127.0.0.1:{port}", config: ConfigFile);
        Worker = _cluster.Node(NodeProcess.FreePort(), Seed.HostPort, config: ConfigFile);
        await Seed.WaitForAllAsync([$"node {Seed.HostPort} joined", $"node {Worker.HostPort} joined"], TimeSpan.FromMinutes(1));
    }

    public Task DisposeAsync()
    {
        _cluster.Dispose();
        return Task.CompletedTask;
    }

    private static void OpenSsl(params string[] args)
    {
        var start = new ProcessStartInfo("openssl") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(TimeSpan.FromMinutes(1)) || process.ExitCode != 0)
        {
            throw new InvalidOperationException($"openssl {args[0]} failed: {error.Result}");
        }
    }
}
