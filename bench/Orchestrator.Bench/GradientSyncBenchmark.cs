using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Akka.Actor;
using Akka.Configuration;
using Orchestrator.Actors.Cluster;
using Orchestrator.Actors.Gradients;

namespace Orchestrator.Bench;

/// <summary>
/// Row 6: gradients averaged per second across two ranks in two processes on 127.0.0.1 (rank 1's chunks go
/// to the supervisor's reduction in the other process and the averages come back), against a plain TCP copy
/// of the same bytes each way between the same two processes. Three paths: the gradient link a cluster rank
/// uses (see GradientHub), the same link over TLS (what a TLS cluster uses), and Akka.Remote (what the link
/// replaced, and what a cluster with gradient-link = off uses).
/// </summary>
internal static class GradientSyncBenchmark
{
    /// <summary>How rank 1's step travels: the gradient link, the link over TLS (a TLS cluster), or Akka.Remote.</summary>
    public enum SyncPath
    {
        Link,
        TlsLink,
        AkkaRemote,
    }

    private const string LinkId = "bench-rank-1";

    public static Row Run(int megabytes, int stepsPerSample, int repetitions, SyncPath path, string scratch) =>
        Run(megabytes << 20, $"{megabytes} MB", stepsPerSample, repetitions, path, scratch);

    /// <summary>
    /// The fixed cost of a step on the gradient link: steps of 1 KB of gradients per second, against round
    /// trips of a plain TCP copy of 1 KB each way. What it costs is what the 1 MB row cannot hide.
    /// </summary>
    public static Row StepRate(int stepsPerSample, int repetitions, string scratch) =>
        Run(1 << 10, "1 KB", stepsPerSample, repetitions, SyncPath.Link, scratch);

    private static Row Run(int bytes, string size, int stepsPerSample, int repetitions, SyncPath path, string scratch)
    {
        var totalLength = bytes / sizeof(float);
        var bytesPerStep = (double)totalLength * sizeof(float);
        // Under a megabyte a step is a round trip's latency, not a transfer: counted in steps, not bytes.
        var perStep = bytes < 1 << 20;
        using var system = ActorSystem.Create("bench-host", ClusterSettings.ClientConfig("127.0.0.1", null));
        GradientHub? hub = null;
        var reducer = system.ActorOf(GradientSyncReducer.Props(totalLength, () => Volatile.Read(ref hub), LinkId), "reducer");
        var tlsConfig = path == SyncPath.TlsLink ? SelfSignedTlsConfig(scratch) : null;
        var linkTls = tlsConfig is null ? null : GradientLinkTls.FromConfig(ConfigurationFactory.ParseString(File.ReadAllText(tlsConfig)));
        using var linkHub = path == SyncPath.AkkaRemote ? null : new GradientHub("127.0.0.1", reducer, linkTls);
        Volatile.Write(ref hub, linkHub);
        var reducerPath = $"{((ExtendedActorSystem)system).Provider.DefaultAddress}/user/reducer";
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var peer = StartPeer(reducerPath, totalLength, ((IPEndPoint)listener.LocalEndpoint).Port, linkHub?.AddressFor(LinkId), tlsConfig);
        try
        {
            using var socket = listener.AcceptTcpClient();
            socket.NoDelay = true;
            // A TLS cluster's link is compared with a TLS copy between the same processes, with the same
            // certificate and cipher suites: the limit it can approach once every byte is encrypted.
            using var tlsSocket = linkTls is null ? null : listener.AcceptTcpClient();
            using var tlsStream = tlsSocket is null ? null : linkTls!.AcceptOn(tlsSocket.GetStream());
            if (tlsSocket is not null)
            {
                tlsSocket.NoDelay = true;
            }
            var ready = peer.StandardOutput.ReadLine() ?? throw new InvalidOperationException("the gradient-sync peer exited before it was ready");
            var rank1 = system.ActorSelection(ready["ready ".Length..]).ResolveOne(TimeSpan.FromSeconds(30)).GetAwaiter().GetResult();
            var step = 0L;
            void SyncSteps(int steps)
            {
                reducer.Ask<StepsSynced>(new RunSteps(step + 1, steps, rank1), TimeSpan.FromMinutes(5)).GetAwaiter().GetResult();
                step += steps;
            }
            // MB/s, or steps/s for a row counted in steps.
            double Rate(Action sample) => stepsPerSample * (perStep ? 1 : bytesPerStep / 1e6) / Measurement.Seconds(sample);
            void Repeat(Action oneStep)
            {
                for (var i = 0; i < stepsPerSample; i++)
                {
                    oneStep();
                }
            }
            using var tcpCopier = new EchoCopier(socket.GetStream());
            using var tlsCopier = tlsStream is null ? null : new EchoCopier(tlsStream);
            Action tcpStep = () => tcpCopier.Copy((long)bytesPerStep);
            Action? tlsStep = tlsCopier is null ? null : () => tlsCopier.Copy((long)bytesPerStep);
            // Connection, buffers and the JIT's second, optimised pass over the link's code (after 30 calls of a
            // method) done before anything is timed: one step left the first 1 KB samples a third slower.
            SyncSteps(Math.Clamp(stepsPerSample, 1, 200));
            tcpStep();
            tlsStep?.Invoke();
            var name = perStep
                ? $"Gradient link step rate, {size} of gradients (a step's fixed cost), 2 ranks in 2 processes"
                : $"Gradient sync bandwidth, {size} of gradients, 2 ranks in 2 processes, {Described(path)}";
            if (tlsStep is not null)
            {
                var taken = Measurement.InTurns(repetitions, () => Rate(() => Repeat(tcpStep)), () => Rate(() => Repeat(tlsStep)), () => Rate(() => SyncSteps(stepsPerSample)));
                var (tcp, tlsCopy, actors) = (taken[0], taken[1], taken[2]);
                return new Row(name, "MB/s", actors, tlsCopy, "plain TLS copy of the same bytes each way between the same processes", 0.7, true,
                    "as the gradient link, with every byte encrypted and decrypted (AES-128-GCM) on both ends and copied once more, out of the TLS stream's buffer, by its reader; "
                    + $"the TLS copy itself runs at {tlsCopy.Median / tcp.Median:0.00} of a plain TCP copy ({tcp.Median:0} MB/s), so the link over TLS at {actors.Median / tcp.Median:0.00} of it", Paired: true);
            }
            var (linkOrRemote, plainTcp) = Measurement.Alternate(repetitions, () => Rate(() => SyncSteps(stepsPerSample)), () => Rate(() => Repeat(tcpStep)));
            if (perStep)
            {
                return new Row(name, "steps/s", linkOrRemote, plainTcp, "round trips of a plain TCP copy of the same bytes each way between the same processes", null, true,
                    $"{1e6 / linkOrRemote.Median:0} µs a step against {1e6 / plainTcp.Median:0} µs a round trip: a step's start, its gradients and their average each wake a writer, a reader and an actor in turn "
                    + "(its end no longer: the next start follows the last average; small frames queued together leave in one write), against the copy's 3 wake-ups, on 2 cores shared by both processes", Paired: true);
            }
            // The goal is the gradient link's, the path a cluster's gradients take. Akka.Remote carries them only where
            // a cluster turned the links off or its supervisor could not open a port for them: shown for comparison.
            var goal = path == SyncPath.AkkaRemote ? (double?)null : 0.7;
            return new Row(name, "MB/s", linkOrRemote, plainTcp, "plain TCP copy of the same bytes each way between the same processes", goal, true, path switch
            {
                SyncPath.Link when Chunking.CountFor(totalLength) == 2 => "two halves, each read straight into place at each end and averaged by one actor: the first half's average travels back "
                    + "while the second half arrives, but each half arrives whole before its average can leave, where the copy's echo streams both ways at once; a step's fixed cost (the step-rate row) comes on top",
                SyncPath.Link => "per chunk: read straight into place at each end, averaged by one actor; a step's round trip crosses a writer, a reader and an actor on each side, and its start and end take the link too",
                _ => "the fallback, where a cluster sets gradient-link = off or its supervisor cannot open the link's port; shown for comparison, no goal of its own: "
                    + "Akka.Remote wraps each 1 MiB message in protobuf envelopes and reassembles it from small socket reads; tens of MB/s",
            }, Paired: true);
        }
        finally
        {
            listener.Stop();
            if (!peer.WaitForExit(10_000))
            {
                peer.Kill();
            }
        }
    }

    private static string Described(SyncPath path) => path switch
    {
        SyncPath.Link => "gradient link",
        SyncPath.TlsLink => "gradient link over TLS",
        _ => "Akka.Remote",
    };

    /// <summary>A TLS cluster's settings for one machine (cluster-config/tls.hocon): a self-signed certificate, validation suppressed.</summary>
    private static string SelfSignedTlsConfig(string scratch)
    {
        var folder = Directory.CreateDirectory(Path.Combine(scratch, $"tls-{Guid.NewGuid():N}")).FullName;
        var pfx = Path.Combine(folder, "node.pfx");
        using (var key = RSA.Create(2048))
        {
            var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
            File.WriteAllBytes(pfx, certificate.Export(X509ContentType.Pfx, "bench-only"));
        }
        var config = Path.Combine(folder, "tls.conf");
        File.WriteAllText(config, $$"""
            akka.remote.dot-netty.tcp.enable-ssl = true
            akka.remote.dot-netty.tcp.ssl {
              suppress-validation = true
              certificate { path = "{{pfx}}", password = "bench-only" }
            }
            """);
        return config;
    }

    private static Process StartPeer(string reducerPath, int totalLength, int tcpPort, GradientLinkAddress? link, string? tlsConfig)
    {
        var self = Environment.ProcessPath ?? throw new InvalidOperationException("cannot tell how this benchmark was started");
        var start = new ProcessStartInfo(self) { RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            start.ArgumentList.Add(typeof(GradientSyncBenchmark).Assembly.Location);
        }
        string[] linkArguments = link is null ? [] : [link.Port.ToString(), link.Token, link.LinkId, .. tlsConfig is null ? (string[])[] : [tlsConfig]];
        foreach (var argument in (string[])[GradientSyncProcess.Flag, reducerPath, totalLength.ToString(), tcpPort.ToString(), .. linkArguments])
        {
            start.ArgumentList.Add(argument);
        }
        return Process.Start(start) ?? throw new InvalidOperationException("cannot start the gradient-sync peer");
    }
}
