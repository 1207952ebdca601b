using YamlDotNet.Core;
using YamlDotNet.Serialization;

namespace Orchestrator.Tests.Cluster;

/// <summary>
/// docker-compose.yml and the Dockerfile checked for what a working cluster needs, since CI has no Docker
/// engine to start them: services, health checks and start order, one shared volume at one path, the
/// journal on PostgreSQL, seeds that name the seed, the secret on every node, workers that can scale.
/// </summary>
public sealed class DeploymentFilesTests
{
    private static readonly string Root = FindRepositoryRoot();
    private readonly Dictionary<string, object> _compose = ReadCompose();

    private Dictionary<object, object> Service(string name) => (Dictionary<object, object>)((Dictionary<object, object>)_compose["services"])[name];

    private static Dictionary<object, object> Map(object node, string key) => (Dictionary<object, object>)((Dictionary<object, object>)node)[key];

    private static List<object> List(object node, string key) => (List<object>)((Dictionary<object, object>)node)[key];

    [Fact]
    public void Compose_has_postgres_a_seed_and_scalable_workers_started_in_order_with_health_checks()
    {
        foreach (var name in new[] { "postgres", "seed", "worker" })
        {
            Assert.True(Service(name).ContainsKey("healthcheck"), $"{name} has no healthcheck");
        }
        Assert.Equal("service_healthy", Map(Map(Service("seed"), "depends_on"), "postgres")["condition"]);
        Assert.Equal("service_healthy", Map(Map(Service("worker"), "depends_on"), "seed")["condition"]);
        var worker = Service("worker");
        Assert.True(int.Parse((string)Map(worker, "deploy")["replicas"]) >= 2);
        Assert.False(worker.ContainsKey("hostname"), "a fixed hostname would stop 'docker compose up --scale worker=N'");
        Assert.False(worker.ContainsKey("ports"), "published ports would clash when workers scale");
    }

    [Fact]
    public void Every_node_mounts_the_same_shared_volume_at_the_same_path_and_uses_the_postgres_journal_and_the_secret()
    {
        Assert.True(((Dictionary<object, object>)_compose["volumes"]).ContainsKey("shared"));
        foreach (var name in new[] { "seed", "worker" })
        {
            var node = Service(name);
            Assert.Contains("shared:/shared", List(node, "volumes").Cast<string>());
            var environment = Map(node, "environment");
            Assert.StartsWith("postgres:Host=postgres;", (string)environment["ORCHESTRATOR_JOURNAL"]);
            Assert.Contains("cluster_secret", List(node, "secrets").Cast<string>());
            var command = string.Join(" ", (node.TryGetValue("entrypoint", out var entrypoint) ? (List<object>)entrypoint : List(node, "command")).Cast<string>());
            Assert.Contains("--secret-file /run/secrets/cluster_secret", command);
            // The health check asks the status, which a cluster with a secret answers only to its holders.
            Assert.Contains("--secret-file /run/secrets/cluster_secret", string.Join(" ", List(Map(node, "healthcheck"), "test").Cast<string>()));
        }
        var secretFile = (string)Map(_compose["secrets"], "cluster_secret")["file"];
        Assert.True(File.Exists(Path.Combine(Root, secretFile)), $"secret file {secretFile} is missing");
    }

    [Fact]
    public void The_seed_list_names_the_seed_service_at_its_port_and_the_image_runs_the_orchestrator()
    {
        var seed = Service("seed");
        var environment = Map(seed, "environment");
        Assert.Equal($"{seed["hostname"]}:{environment["ORCHESTRATOR_PORT"]}", environment["ORCHESTRATOR_SEEDS"]);
        Assert.Equal(seed["hostname"], environment["ORCHESTRATOR_HOSTNAME"]);
        // A seed that lists only itself and restarts alone forms a second cluster; it must not restart by itself.
        Assert.Equal("no", seed["restart"]);
        Assert.Equal("unless-stopped", Service("worker")["restart"]);
        Assert.Equal(".", seed["build"]);
        var dockerfile = File.ReadAllText(Path.Combine(Root, "Dockerfile"));
        Assert.Contains("dotnet publish src/Orchestrator", dockerfile);
        Assert.Contains("ENTRYPOINT [\"dotnet\", \"/app/orchestrator.dll\"]", dockerfile);
        Assert.Contains("/app/orchestrator.dll", string.Join(" ", List(Map(seed, "healthcheck"), "test").Cast<string>()));
    }

    private static Dictionary<string, object> ReadCompose()
    {
        using var reader = new StreamReader(Path.Combine(Root, "docker-compose.yml"));
        // The merging parser resolves the '<<: *node' merge keys the way Docker Compose does.
        var parsed = new DeserializerBuilder().Build().Deserialize<Dictionary<object, object>>(new MergingParser(new Parser(reader)));
        return parsed.ToDictionary(p => (string)p.Key, p => p.Value);
    }

    private static string FindRepositoryRoot()
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
