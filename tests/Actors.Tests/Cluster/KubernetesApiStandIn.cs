using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;

namespace Orchestrator.Actors.Tests.Cluster;

/// <summary>
/// A stand-in for the Kubernetes API server's pods endpoint (there is no Kubernetes here): HTTPS on 127.0.0.1
/// with a self-signed certificate, answering <c>GET /api/v1/namespaces/NS/pods?labelSelector=...</c> with a
/// PodList shaped as the real server's (kind, apiVersion, metadata, items with metadata, spec.containers[].ports
/// and status: phase, podIP, podIPs, conditions), and remembering each request line and its Authorization.
/// It answers every label selector with the same pods: what it checks is what the client asks.
/// </summary>
public sealed class KubernetesApiStandIn : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly X509Certificate2 _certificate = SelfSigned();
    private readonly CancellationTokenSource _stop = new();
    private readonly string _podList;

    public KubernetesApiStandIn(string @namespace, IEnumerable<StandInPod> pods)
    {
        _podList = PodList(@namespace, pods);
        _listener.Start();
        _ = Task.Run(Serve);
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Each request's line (method, path and query) and its Authorization header.</summary>
    public ConcurrentQueue<(string RequestLine, string? Authorization)> Requests { get; } = new();

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        _certificate.Dispose();
    }

    private async Task Serve()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            _ = Task.Run(() => Answer(client));
        }
    }

    private async Task Answer(TcpClient client)
    {
        using var _ = client;
        try
        {
            await using var tls = new SslStream(client.GetStream());
            await tls.AuthenticateAsServerAsync(_certificate);
            using var reader = new StreamReader(tls, Encoding.ASCII, leaveOpen: true);
            var requestLine = await reader.ReadLineAsync() ?? "";
            string? authorization = null;
            while (await reader.ReadLineAsync() is { Length: > 0 } header)
            {
                if (header.StartsWith("Authorization:", StringComparison.OrdinalIgnoreCase))
                {
                    authorization = header["Authorization:".Length..].Trim();
                }
            }
            Requests.Enqueue((requestLine, authorization));
            var body = Encoding.UTF8.GetBytes(_podList);
            var head = Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n");
            await tls.WriteAsync(head);
            await tls.WriteAsync(body);
            await tls.FlushAsync();
        }
        catch (Exception e) when (e is IOException or System.Security.Authentication.AuthenticationException or ObjectDisposedException)
        {
            // A client that hung up.
        }
    }

    private static string PodList(string @namespace, IEnumerable<StandInPod> pods) => JsonSerializer.Serialize(new
    {
        kind = "PodList",
        apiVersion = "v1",
        metadata = new { resourceVersion = "4711" },
        items = pods.Select((pod, i) => new Dictionary<string, object?>
        {
            ["metadata"] = new Dictionary<string, object?>
            {
                ["name"] = pod.Name,
                ["namespace"] = @namespace,
                ["uid"] = $"00000000-0000-4000-8000-{i:D12}",
                ["resourceVersion"] = $"{4700 + i}",
                ["creationTimestamp"] = "2026-12-07T10:00:00Z",
                ["deletionTimestamp"] = pod.Terminating ? "2026-12-07T10:05:00Z" : null,
                ["labels"] = new Dictionary<string, string> { ["app"] = "orchestrator", ["apps.kubernetes.io/pod-index"] = $"{i}" },
            },
            ["spec"] = new
            {
                serviceAccountName = "orchestrator",
                containers = new[]
                {
                    new
                    {
                        name = "orchestrator",
                        image = "orchestrator:local",
                        ports = new object[]
                        {
                            new { name = "remoting", containerPort = 4053, protocol = "TCP" },
                            new { name = "management", containerPort = pod.ManagementPort, protocol = "TCP" },
                        },
                    },
                },
            },
            ["status"] = pod.Phase == "Pending"
                ? new Dictionary<string, object?> { ["phase"] = "Pending", ["conditions"] = new[] { new { type = "PodScheduled", status = "False", reason = "Unschedulable" } } }
                : new Dictionary<string, object?>
                {
                    ["phase"] = pod.Phase,
                    ["hostIP"] = "10.0.0.11",
                    ["podIP"] = pod.Ip,
                    ["podIPs"] = new[] { new { ip = pod.Ip } },
                    ["startTime"] = "2026-12-07T10:00:01Z",
                    ["conditions"] = new[] { new { type = "Ready", status = "False" }, new { type = "ContainersReady", status = "False" } },
                    ["containerStatuses"] = new[] { new { name = "orchestrator", ready = false, restartCount = 0, image = "orchestrator:local", state = new { running = new { startedAt = "2026-12-07T10:00:02Z" } } } },
                },
        }),
    }, new JsonSerializerOptions { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull });

    private static X509Certificate2 SelfSigned()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=kubernetes-api-stand-in", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        using var ephemeral = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
        // SslStream on Linux needs the key in a form it can hand to OpenSSL: a PKCS#12 round trip gives it one.
        return X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pkcs12), null);
    }
}

/// <summary>One pod of the stand-in's list: Running with an address, Pending without one, or being deleted.</summary>
public sealed record StandInPod(string Name, string Phase, string? Ip, int ManagementPort, bool Terminating = false);
