using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Akka.Configuration;
using Akka.TestKit.Xunit2;
using Orchestrator.Actors.Gradients;
using Orchestrator.Actors.Protocol;

namespace Orchestrator.Actors.Tests.Gradients;

/// <summary>
/// The gradient link of a TLS cluster, over a real socket on 127.0.0.1, with a self-signed certificate
/// loaded from the cluster's own settings (akka.remote.dot-netty.tcp.ssl), as cluster-config/tls.hocon has them.
/// </summary>
public sealed class GradientLinkTlsTests : TestKit
{
    // A whole chunk (1 MiB: many TLS records; the first of two), starting with the floats that must survive bit for bit.
    private static readonly float[] Values = [1.5f, -0.0f, float.NaN, float.Epsilon, 3e38f, .. Enumerable.Range(0, Chunking.ChunkLength - 5).Select(i => i * 0.5f)];
    private const int Total = 2 * Chunking.ChunkLength;
    private readonly string _folder = Directory.CreateTempSubdirectory("link-tls-").FullName;

    [Fact]
    public async Task Chunks_and_step_messages_cross_an_encrypted_link_bit_for_bit()
    {
        var tls = Tls(suppressValidation: true);
        var supervisor = CreateTestProbe();
        var rank = CreateTestProbe();
        using var hub = new GradientHub("127.0.0.1", supervisor.Ref, tls);
        var address = hub.AddressFor("rank-1-g1");
        using var link = GradientLinkClient.Connect(address, rank.Ref, tls);

        link.Send(new GradientChunk(1, 1, 5, 0, 2, Total, Values, 0.5, 8));
        var received = await supervisor.ExpectMsgAsync<GradientChunk>();
        Assert.True(hub.TrySend("rank-1-g1", new AveragedChunk(1, 5, 0, 2, Total, Values, 16)));
        var averaged = await rank.ExpectMsgAsync<AveragedChunk>();
        Assert.True(link.Send(new StepApplied(1, 1, 5, 0, false, 0.1)));
        var applied = await supervisor.ExpectMsgAsync<StepApplied>();

        Assert.True(address.Tls);
        Assert.Equal(Bits(Values), Bits(received.Values));
        Assert.Equal(Bits(Values), Bits(averaged.Values));
        Assert.Equal(5, applied.Step);
    }

    [Fact]
    public void A_certificate_no_one_trusts_fails_the_connect_with_the_fix()
    {
        var hub = new GradientHub("127.0.0.1", CreateTestProbe().Ref, Tls(suppressValidation: true));
        using var _ = hub;
        var address = hub.AddressFor("rank-1-g1");

        var error = Assert.Throws<IOException>(() => GradientLinkClient.Connect(address, CreateTestProbe().Ref, Tls(suppressValidation: false)));

        Assert.StartsWith($"TLS handshake of the gradient link to 127.0.0.1:{address.Port} failed (", error.Message);
        Assert.EndsWith("set ssl.suppress-validation = true (see cluster-config/tls.hocon)", error.Message);
    }

    [Fact]
    public void A_node_without_TLS_settings_is_told_to_use_the_same_config()
    {
        using var hub = new GradientHub("127.0.0.1", CreateTestProbe().Ref, Tls(suppressValidation: true));
        var address = hub.AddressFor("rank-1-g1");

        var error = Assert.Throws<IOException>(() => GradientLinkClient.Connect(address, CreateTestProbe().Ref, tls: null));

        Assert.Equal($"the gradient link to 127.0.0.1:{address.Port} runs TLS but this node has no akka.remote.dot-netty.tcp.enable-ssl: give every node the same --config", error.Message);
    }

    [Fact]
    public async Task A_plain_connection_to_a_TLS_hub_is_closed_and_nothing_it_sends_counts()
    {
        var supervisor = CreateTestProbe();
        var rank = CreateTestProbe();
        using var hub = new GradientHub("127.0.0.1", supervisor.Ref, Tls(suppressValidation: true));
        using var link = GradientLinkClient.Connect(hub.AddressFor("rank-1-g1") with { Tls = false }, rank.Ref);

        link.Send(new GradientChunk(1, 1, 1, 0, 2, Total, Values, 0, 0));

        await rank.ExpectMsgAsync<GradientLinkClosed>(TimeSpan.FromSeconds(30));
        await supervisor.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(300));
    }

    [Fact]
    public async Task Links_on_Linux_negotiate_AES_128_GCM_the_fastest_suite_here()
    {
        var tls = Tls(suppressValidation: true);
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port);
        using var accepted = await listener.AcceptTcpClientAsync();

        var hubEnd = Task.Run(() => tls.AcceptOn(accepted.GetStream()));
        using var rankEnd = (SslStream)tls.ConnectOn(client.GetStream(), "127.0.0.1", port);
        using var hubStream = (SslStream)await hubEnd;

        // Only Linux lets a program order the suites; elsewhere the system's choice stands.
        var expected = OperatingSystem.IsLinux() ? TlsCipherSuite.TLS_AES_128_GCM_SHA256 : hubStream.NegotiatedCipherSuite;
        Assert.Equal(expected, rankEnd.NegotiatedCipherSuite);
        Assert.Equal(expected, hubStream.NegotiatedCipherSuite);
    }

    [Fact]
    public void A_cluster_without_TLS_has_no_link_TLS()
    {
        Assert.Null(GradientLinkTls.FromConfig(ConfigurationFactory.ParseString("akka.remote.dot-netty.tcp.enable-ssl = false")));
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    private GradientLinkTls Tls(bool suppressValidation)
    {
        var pfx = Path.Combine(_folder, "node.pfx");
        if (!File.Exists(pfx))
        {
            using var key = RSA.Create(2048);
            var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
            File.WriteAllBytes(pfx, certificate.Export(X509ContentType.Pfx, "test-only"));
        }
        return GradientLinkTls.FromConfig(ConfigurationFactory.ParseString($$"""
            akka.remote.dot-netty.tcp {
              enable-ssl = true
              ssl {
                suppress-validation = {{(suppressValidation ? "true" : "false")}}
                certificate { path = "{{pfx}}", password = "test-only" }
              }
            }
            """))!;
    }

    private static int[] Bits(IEnumerable<float> values) => values.Select(BitConverter.SingleToInt32Bits).ToArray();
}
