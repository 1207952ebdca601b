using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Akka.Configuration;

namespace Orchestrator.Actors.Gradients;

/// <summary>
/// TLS for the gradient links of a cluster that runs Akka.Remote over TLS, with the same certificate and the
/// same checks (<c>akka.remote.dot-netty.tcp.ssl</c>): the supervisor's hub presents the node's certificate,
/// a rank presents its own when mutual authentication is on, and each end checks the other's chain, and the
/// host name only where <c>validate-certificate-hostname</c> asks, unless <c>suppress-validation</c> is set.
/// The job token still goes first, inside the encrypted connection.
/// </summary>
public sealed class GradientLinkTls
{
    private const string Ssl = "akka.remote.dot-netty.tcp.ssl";

    /// <summary>
    /// The AEAD suites of TLS 1.3 and 1.2, AES-128-GCM first: every byte of gradients is encrypted and
    /// decrypted each step, and here AES-128-GCM runs at 4.1 GB/s a core against AES-256-GCM's 2.9 (openssl
    /// speed). Only Linux lets a program choose (elsewhere the system's order holds).
    /// </summary>
    private static readonly CipherSuitesPolicy? FastestFirst = OperatingSystem.IsLinux()
        ? new(
        [
            TlsCipherSuite.TLS_AES_128_GCM_SHA256, TlsCipherSuite.TLS_AES_256_GCM_SHA384, TlsCipherSuite.TLS_CHACHA20_POLY1305_SHA256,
            TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
            TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
            TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, TlsCipherSuite.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
        ])
        : null;

    private readonly X509Certificate2 _certificate;
    private readonly bool _suppressValidation;
    private readonly bool _mutual;
    private readonly bool _validateHostname;

    private GradientLinkTls(X509Certificate2 certificate, bool suppressValidation, bool mutual, bool validateHostname)
    {
        _certificate = certificate;
        _suppressValidation = suppressValidation;
        _mutual = mutual;
        _validateHostname = validateHostname;
    }

    /// <summary>The settings of a node with <c>enable-ssl</c>; null without TLS. Throws IOException naming what cannot be loaded.</summary>
    public static GradientLinkTls? FromConfig(Config config)
    {
        if (!config.GetBoolean("akka.remote.dot-netty.tcp.enable-ssl", false))
        {
            return null;
        }
        return new GradientLinkTls(
            LoadCertificate(config),
            config.GetBoolean($"{Ssl}.suppress-validation", false),
            config.GetBoolean($"{Ssl}.require-mutual-authentication", true),
            config.GetBoolean($"{Ssl}.validate-certificate-hostname", false));
    }

    /// <summary>The hub's end: presents the certificate and, with mutual authentication, checks the rank's.</summary>
    public Stream AcceptOn(Stream connection)
    {
        var tls = new SslStream(connection, leaveInnerStreamOpen: false, (_, certificate, _, errors) => Accepts(certificate, errors, peerIsServer: false));
        try
        {
            tls.AuthenticateAsServer(new SslServerAuthenticationOptions
            {
                ServerCertificate = _certificate,
                ClientCertificateRequired = _mutual,
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                CipherSuitesPolicy = FastestFirst,
            });
        }
        catch (Exception e) when (e is AuthenticationException or IOException)
        {
            tls.Dispose();
            throw new IOException($"TLS handshake of a gradient link failed ({e.Message})", e);
        }
        return tls;
    }

    /// <summary>A rank's end: checks the hub's certificate and, with mutual authentication, presents its own.</summary>
    public Stream ConnectOn(Stream connection, string host, int port)
    {
        var tls = new SslStream(connection, leaveInnerStreamOpen: false, (_, certificate, _, errors) => Accepts(certificate, errors, peerIsServer: true));
        try
        {
            tls.AuthenticateAsClient(new SslClientAuthenticationOptions
            {
                TargetHost = host,
                ClientCertificates = _mutual ? [_certificate] : null,
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                CipherSuitesPolicy = FastestFirst,
            });
        }
        catch (Exception e) when (e is AuthenticationException or IOException)
        {
            tls.Dispose();
            throw new IOException(
                $"TLS handshake of the gradient link to {host}:{port} failed ({e.Message}); the nodes must trust each other's certificates: " +
                "install the CA on every machine, or for a self-signed certificate on one machine set ssl.suppress-validation = true (see cluster-config/tls.hocon)", e);
        }
        return tls;
    }

    private bool Accepts(X509Certificate? certificate, SslPolicyErrors errors, bool peerIsServer)
    {
        if (certificate is null)
        {
            return !_mutual && !peerIsServer; // a rank need not present one unless mutual authentication is on
        }
        if (_suppressValidation)
        {
            return true;
        }
        // As Akka.Remote does: the chain always; the name only when asked, and only of a server.
        var ignored = peerIsServer && _validateHostname ? SslPolicyErrors.None : SslPolicyErrors.RemoteCertificateNameMismatch;
        return (errors & ~ignored) == SslPolicyErrors.None;
    }

    private static X509Certificate2 LoadCertificate(Config config)
    {
        try
        {
            if (config.GetBoolean($"{Ssl}.certificate.use-thumbprint-over-file", false))
            {
                var thumbprint = config.GetString($"{Ssl}.certificate.thumbprint", "");
                var storeName = config.GetString($"{Ssl}.certificate.store-name", "");
                var location = config.GetString($"{Ssl}.certificate.store-location", "current-user") == "local-machine" ? StoreLocation.LocalMachine : StoreLocation.CurrentUser;
                using var store = new X509Store(string.IsNullOrEmpty(storeName) ? "My" : storeName, location);
                store.Open(OpenFlags.ReadOnly);
                return store.Certificates.Find(X509FindType.FindByThumbprint, thumbprint, validOnly: false).FirstOrDefault()
                    ?? throw new IOException($"no certificate with thumbprint '{thumbprint}' in store '{storeName}' ({location})");
            }
            var path = config.GetString($"{Ssl}.certificate.path", "");
            return X509CertificateLoader.LoadPkcs12FromFile(path, config.GetString($"{Ssl}.certificate.password", ""));
        }
        catch (System.Security.Cryptography.CryptographicException e)
        {
            throw new IOException($"cannot load the TLS certificate of {Ssl}.certificate for the gradient link ({e.Message})", e);
        }
    }
}
