using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using MemberStatus = Akka.Cluster.MemberStatus;
using Akka.Configuration;
using Akka.TestKit.TestActors;
using Akka.TestKit.Xunit2;
using Orchestrator.Actors.Cluster;
using Orchestrator.Actors.Hosting;
using Orchestrator.Actors.Persistence;

namespace Orchestrator.Actors.Tests.Cluster;

/// <summary>
/// <c>--discovery kubernetes</c> end to end, against <see cref="KubernetesApiStandIn"/> (a stand-in of the pods
/// API, since there is no Kubernetes here): two nodes in this process, built as <c>orchestrator node</c> builds
/// one, list the pods under app=orchestrator in their namespace with the service account's token, keep the
/// Running ones at their port named management (not the Pending pod, not the one being deleted) and form one
/// cluster through Cluster Bootstrap.
/// </summary>
public sealed class KubernetesDiscoveryTests : TestKit
{
    private const string Namespace = "orchestrator-test";
    private const string Token = "stand-in-service-account-token";
    private readonly TempDirectory _temp = new();
    private readonly List<ActorSystem> _nodes = [];

    [Fact]
    public async Task Two_pods_listed_by_the_pods_API_form_one_cluster_and_pending_or_terminating_pods_are_not_waited_for()
    {
        var (first, second, gone) = (FreePort(), FreePort(), FreePort());
        using var api = new KubernetesApiStandIn(Namespace,
        [
            new StandInPod("orchestrator-0", "Running", "127.0.0.1", first),
            new StandInPod("orchestrator-1", "Running", "127.0.0.1", second),
            new StandInPod("orchestrator-2", "Pending", null, 8558),
            new StandInPod("orchestrator-3", "Running", "127.0.0.1", gone, Terminating: true),
        ]);
        var hocon = Client(api.Port);

        var a = StartNode(first, hocon);
        var b = StartNode(second, hocon);

        await AwaitAssertAsync(
            () =>
            {
                Assert.Equal(2, Akka.Cluster.Cluster.Get(a).State.Members.Count(m => m.Status == MemberStatus.Up));
                Assert.Equal(2, Akka.Cluster.Cluster.Get(b).State.Members.Count(m => m.Status == MemberStatus.Up));
            },
            TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(200));
        Assert.All(api.Requests, request =>
        {
            Assert.StartsWith($"GET /api/v1/namespaces/{Namespace}/pods?labelSelector=app%3Dorchestrator", request.RequestLine);
            Assert.Equal($"Bearer {Token}", request.Authorization);
        });
        Assert.NotEmpty(api.Requests);
    }

    private ActorSystem StartNode(int managementPort, Config kubernetesClient)
    {
        var settings = new ClusterSettings("127.0.0.1", FreePort(), new ClusterJoin.KubernetesPods("app=orchestrator"), ["cpu"], null, "in-process-secret",
            JournalSettings.SqliteAt(_temp.Sub("journal.db")), managementPort);
        var config = kubernetesClient.WithFallback(settings.ToConfig());
        var node = OrchestratorNode.Recipe(config, settings.Devices, ClusterCredentials.From(config), new NodeOutcome(), Props.Create<BlackHoleActor>())
            .WithManagement(settings)
            .Build();
        _nodes.Add(node);
        return node;
    }

    // What a pod has from Kubernetes itself: the API server's address in two environment variables, its
    // service account's token and namespace. The client library trusts the stand-in's self-signed certificate
    // only through a kubeconfig that says so (KUBECONFIG), which it reads before the in-cluster settings.
    private Config Client(int apiPort)
    {
        var token = _temp.Sub("token");
        File.WriteAllText(token, Token);
        var kubeconfig = _temp.Sub("kubeconfig");
        File.WriteAllText(kubeconfig, $"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: stand-in
              cluster:
                server: https://127.0.0.1:{apiPort}
                insecure-skip-tls-verify: true
            users:
            - name: stand-in
              user:
                token: {Token}
            contexts:
            - name: stand-in
              context:
                cluster: stand-in
                user: stand-in
                namespace: {Namespace}
            current-context: stand-in
            """);
        Environment.SetEnvironmentVariable("KUBECONFIG", kubeconfig);
        Environment.SetEnvironmentVariable("ORCHESTRATOR_TEST_KUBERNETES_HOST", "127.0.0.1");
        Environment.SetEnvironmentVariable("ORCHESTRATOR_TEST_KUBERNETES_PORT", apiPort.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return ConfigurationFactory.ParseString($$"""
            akka.discovery.kubernetes-api {
              api-service-host-env-name = ORCHESTRATOR_TEST_KUBERNETES_HOST
              api-service-port-env-name = ORCHESTRATOR_TEST_KUBERNETES_PORT
              api-token-path = "{{token}}"
              pod-namespace = {{Namespace}}
            }
            akka.management.cluster.bootstrap.contact-point-discovery.stable-margin = 2s
            """);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            // One at a time, the younger first: two members leaving at once hand the coordinator to each other.
            foreach (var node in Enumerable.Reverse(_nodes))
            {
                node.Terminate().Wait(TimeSpan.FromSeconds(30));
            }
        }
        base.Dispose(disposing);
        if (disposing)
        {
            _temp.Dispose();
        }
    }
}
