using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.Serialization;

namespace Orchestrator.Tests.Cluster;

/// <summary>
/// deploy/kubernetes/ checked for what the nodes need, since there is no Kubernetes here: pods labelled as the
/// discovery selects them, a Role that may list pods bound to the pods' service account, probes on the
/// management port's health routes, the shared volume ReadWriteMany at the same path as in Compose, the
/// secret wired to ORCHESTRATOR_SECRET, the journal on PostgreSQL, and a preStop that drains the pod itself.
/// </summary>
public sealed class KubernetesManifestsTests
{
    private readonly List<Dictionary<object, object>> _objects = ReadAll(Path.Combine(DeploymentFilesTests.FindRepositoryRoot(), "deploy", "kubernetes"));

    private Dictionary<object, object> Object(string kind, string name) =>
        _objects.Single(o => (string)o["kind"] == kind && (string)Map(o, "metadata")["name"] == name);

    private static Dictionary<object, object> Map(object node, string key) => (Dictionary<object, object>)((Dictionary<object, object>)node)[key];

    private static List<object> List(object node, string key) => (List<object>)((Dictionary<object, object>)node)[key];

    private Dictionary<object, object> PodSpec => Map(Map(Object("StatefulSet", "orchestrator"), "spec"), "template");

    private Dictionary<object, object> Container => (Dictionary<object, object>)List(Map(PodSpec, "spec"), "containers").Single();

    private string Env(string name) => (string)((Dictionary<object, object>)List(Container, "env").Single(e => (string)((Dictionary<object, object>)e)["name"] == name))["value"];

    [Fact]
    public void The_pods_carry_the_label_their_discovery_selects_and_the_headless_service_selects_them()
    {
        var args = string.Join(" ", List(Container, "args").Cast<string>());
        Assert.Contains("--discovery kubernetes --pod-label-selector app=orchestrator", args);
        Assert.Contains("--hostname $(POD_IP)", args);
        Assert.Equal("orchestrator", Map(Map(PodSpec, "metadata"), "labels")["app"]);
        Assert.Equal("orchestrator", Map(Map(Map(Object("StatefulSet", "orchestrator"), "spec"), "selector"), "matchLabels")["app"]);
        var service = Map(Object("Service", "orchestrator"), "spec");
        Assert.Equal("None", service["clusterIP"]);
        Assert.Equal("orchestrator", Map(service, "selector")["app"]);
    }

    [Fact]
    public void The_pods_service_account_may_list_pods_through_a_namespaced_role()
    {
        var account = (string)Map(PodSpec, "spec")["serviceAccountName"];
        Assert.Equal("ServiceAccount", Object("ServiceAccount", account)["kind"]);
        var binding = _objects.Single(o => (string)o["kind"] == "RoleBinding");
        Assert.Contains(List(binding, "subjects").Cast<Dictionary<object, object>>(), s => (string)s["kind"] == "ServiceAccount" && (string)s["name"] == account);
        var role = Object("Role", (string)Map(binding, "roleRef")["name"]);
        Assert.Contains(List(role, "rules").Cast<Dictionary<object, object>>(), rule =>
            List(rule, "resources").Contains("pods") && List(rule, "verbs").Contains("list") && List(rule, "apiGroups").Contains(""));
        Assert.DoesNotContain(_objects, o => (string)o["kind"] is "ClusterRole" or "ClusterRoleBinding" or "Namespace");
    }

    [Fact]
    public void Liveness_and_readiness_probe_the_health_routes_on_the_management_port_the_discovery_finds_by_name()
    {
        var management = List(Container, "ports").Cast<Dictionary<object, object>>().Single(p => (string)p["name"] == "management");
        Assert.Equal(Env("ORCHESTRATOR_MANAGEMENT_PORT"), (string)management["containerPort"]);
        Assert.Equal("/health/alive", Map(Map(Container, "livenessProbe"), "httpGet")["path"]);
        Assert.Equal("/health/ready", Map(Map(Container, "readinessProbe"), "httpGet")["path"]);
        Assert.Equal("management", Map(Map(Container, "livenessProbe"), "httpGet")["port"]);
        Assert.Equal("management", Map(Map(Container, "readinessProbe"), "httpGet")["port"]);
    }

    [Fact]
    public void The_shared_volume_is_read_write_many_at_the_path_compose_uses_and_the_secret_and_journal_are_wired()
    {
        var mount = (Dictionary<object, object>)List(Container, "volumeMounts").Single();
        Assert.Equal("/shared", mount["mountPath"]);
        var volume = List(Map(PodSpec, "spec"), "volumes").Cast<Dictionary<object, object>>().Single(v => v["name"].Equals(mount["name"]));
        var claim = Object("PersistentVolumeClaim", (string)Map(volume, "persistentVolumeClaim")["claimName"]);
        Assert.Equal(["ReadWriteMany"], List(Map(claim, "spec"), "accessModes").Cast<string>());

        var secretEnv = (Dictionary<object, object>)List(Container, "env").Single(e => (string)((Dictionary<object, object>)e)["name"] == "ORCHESTRATOR_SECRET");
        var reference = Map(Map(secretEnv, "valueFrom"), "secretKeyRef");
        Assert.True(Map(Object("Secret", (string)reference["name"]), "stringData").ContainsKey(reference["key"]));

        Assert.StartsWith("postgres:Host=postgres;", Env("ORCHESTRATOR_JOURNAL"));
        Assert.Equal("orchestrator-postgres", Map(Map(Object("Service", "postgres"), "spec"), "selector")["app"]);
    }

    [Fact]
    public void A_pod_that_stops_drains_itself_first()
    {
        var command = string.Join(" ", List(Map(Map(Map(Container, "lifecycle"), "preStop"), "exec"), "command").Cast<string>());
        Assert.Contains("/app/orchestrator.dll drain --cluster \"$POD_IP:4053\" --node \"$POD_IP:4053\"", command);
        Assert.Equal("4053", Env("ORCHESTRATOR_PORT"));
        Assert.True(int.Parse((string)Map(PodSpec, "spec")["terminationGracePeriodSeconds"]) >= 60);
    }

    private static List<Dictionary<object, object>> ReadAll(string folder)
    {
        var deserializer = new DeserializerBuilder().Build();
        var objects = new List<Dictionary<object, object>>();
        foreach (var file in Directory.GetFiles(folder, "*.yaml").Order(StringComparer.Ordinal))
        {
            using var reader = new StreamReader(file);
            var parser = new Parser(reader);
            parser.Consume<StreamStart>();
            while (parser.Accept<DocumentStart>(out _))
            {
                objects.Add(deserializer.Deserialize<Dictionary<object, object>>(parser));
            }
        }
        return objects;
    }
}
