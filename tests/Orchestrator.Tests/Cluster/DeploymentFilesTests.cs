using YamlDotNet.Core;
using YamlDotNet.Serialization;

namespace Orchestrator.Tests.Cluster;

/// <summary>
/// docker-compose.yml and the Dockerfile checked for what a working cluster needs, since CI has no Docker
/// engine to start them: one node service that scales and restarts (no seed: bootstrap from the service's own
/// name), health checks and start order, one shared volume at one path, the journal on PostgreSQL, the secret.
/// </summary>
public sealed class DeploymentFilesTests
{
    private static readonly string Root = FindRepositoryRoot();
    private readonly Dictionary<string, object> _compose = ReadCompose();

    private Dictionary<object, object> Service(string name) => (Dictionary<object, object>)((Dictionary<object, object>)_compose["services"])[name];

    private static Dictionary<object, object> Map(object node, string key) => (Dictionary<object, object>)((Dictionary<object, object>)node)[key];

    private static List<object> List(object node, string key) => (List<object>)((Dictionary<object, object>)node)[key];

    [Fact]
    public void Compose_has_postgres_and_one_node_service_that_scales_restarts_and_has_no_seed()
    {
        Assert.Equal(["node", "postgres"], ((Dictionary<object, object>)_compose["services"]).Keys.Cast<string>().Order());
        var node = Service("node");
        Assert.True(Service("postgres").ContainsKey("healthcheck"));
        Assert.True(node.ContainsKey("healthcheck"), "node has no healthcheck");
        Assert.Equal("service_healthy", Map(Map(node, "depends_on"), "postgres")["condition"]);
        Assert.True(int.Parse((string)Map(node, "deploy")["replicas"]) >= 2);
        Assert.Equal("unless-stopped", node["restart"]);
        Assert.False(node.ContainsKey("hostname"), "a fixed hostname would stop 'docker compose up --scale node=N'");
        Assert.False(node.ContainsKey("ports"), "published ports would clash when nodes scale");
    }

    [Fact]
    public void Every_node_mounts_the_same_shared_volume_at_the_same_path_and_uses_the_postgres_journal_and_the_secret()
    {
        Assert.True(((Dictionary<object, object>)_compose["volumes"]).ContainsKey("shared"));
        var node = Service("node");
        Assert.Contains("shared:/shared", List(node, "volumes").Cast<string>());
        var environment = Map(node, "environment");
        Assert.StartsWith("postgres:Host=postgres;", (string)environment["ORCHESTRATOR_JOURNAL"]);
        Assert.Contains("cluster_secret", List(node, "secrets").Cast<string>());
        var command = string.Join(" ", List(node, "entrypoint").Cast<string>());
        Assert.Contains("--secret-file /run/secrets/cluster_secret", command);
        // The health check asks the status, which a cluster with a secret answers only to its holders.
        Assert.Contains("--secret-file /run/secrets/cluster_secret", string.Join(" ", List(Map(node, "healthcheck"), "test").Cast<string>()));
        var secretFile = (string)Map(_compose["secrets"], "cluster_secret")["file"];
        Assert.True(File.Exists(Path.Combine(Root, secretFile)), $"secret file {secretFile} is missing");
    }

    [Fact]
    public void Nodes_bootstrap_from_their_own_service_name_at_the_management_port_and_the_image_runs_the_orchestrator()
    {
        var node = Service("node");
        var environment = Map(node, "environment");
        Assert.False(environment.ContainsKey("ORCHESTRATOR_SEEDS"), "a seed list is what made a restarted seed form a second cluster");
        Assert.Equal("config", environment["ORCHESTRATOR_DISCOVERY"]);
        Assert.Equal($"node:{environment["ORCHESTRATOR_MANAGEMENT_PORT"]}", environment["ORCHESTRATOR_CONTACT_POINTS"]);
        Assert.Contains("--hostname \"$$(hostname -i)\"", string.Join(" ", List(node, "entrypoint").Cast<string>()));
        Assert.Equal(".", node["build"]);
        var dockerfile = File.ReadAllText(Path.Combine(Root, "Dockerfile"));
        Assert.Contains("dotnet publish src/Orchestrator", dockerfile);
        Assert.Contains("ENTRYPOINT [\"dotnet\", \"/app/orchestrator.dll\"]", dockerfile);
        Assert.Contains("EXPOSE 4053 8558", dockerfile);
        Assert.Contains("/app/orchestrator.dll", string.Join(" ", List(Map(node, "healthcheck"), "test").Cast<string>()));
    }

    private static Dictionary<string, object> ReadCompose()
    {
        using var reader = new StreamReader(Path.Combine(Root, "docker-compose.yml"));
        // The merging parser resolves the '<<: *node' merge keys the way Docker Compose does.
        var parsed = new DeserializerBuilder().Build().Deserialize<Dictionary<object, object>>(new MergingParser(new Parser(reader)));
        return parsed.ToDictionary(p => (string)p.Key, p => p.Value);
    }

    internal static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Orchestrator.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("Orchestrator.sln not found above the test assembly");
    }
}
