using Akka.Configuration;
using Orchestrator.Actors.Cluster;
using Orchestrator.Actors.Configuration;
using Orchestrator.Actors.Persistence;

namespace Orchestrator.Cli.Commands.Cluster;

/// <summary>Cluster flags, each with an environment variable behind it (containers set those instead).</summary>
internal static class ClusterOptions
{
    /// <summary>What a node started with --insecure, and a status of its cluster, say.</summary>
    public const string InsecureCluster = "insecure cluster: no secret, so anyone who reaches a node can join, submit, stop and read its jobs " +
        "(give every node and client --secret-file FILE or ORCHESTRATOR_SECRET for anything reachable from a network)";

    public static ClusterSettings NodeSettings(ParsedArguments parsed)
    {
        var port = parsed.Int("--port") ?? EnvInt("ORCHESTRATOR_PORT") ?? 4053;
        if (port is < 1 or > 65535)
        {
            throw new UsageException($"--port {port} must be between 1 and 65535");
        }
        var hostname = parsed.Value("--hostname") ?? Env("ORCHESTRATOR_HOSTNAME") ?? "127.0.0.1";
        var join = Join(parsed);
        var managementPort = parsed.Int("--management-port") ?? EnvInt("ORCHESTRATOR_MANAGEMENT_PORT") ?? (join.Bootstraps ? DefaultManagementPort : null);
        if (managementPort is < 1 or > 65535)
        {
            throw new UsageException($"--management-port {managementPort} must be between 1 and 65535");
        }
        if (managementPort == port)
        {
            throw new UsageException($"--management-port {managementPort} is the cluster port too; give each its own (the management default is {DefaultManagementPort})");
        }
        var devices = (parsed.Value("--devices") ?? Env("ORCHESTRATOR_DEVICES") ?? "cpu").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var device in devices)
        {
            if (device != "cpu" && !(device.StartsWith("cuda", StringComparison.Ordinal) && (device == "cuda" || int.TryParse(device.AsSpan(5), out _) && device[4] == ':')))
            {
                throw new UsageException($"--devices entry '{device}' is not cpu, cuda or cuda:N");
            }
        }
        if (devices.Length == 0)
        {
            throw new UsageException("--devices is empty (give at least one: cpu, or cuda:0,...)");
        }
        var configFile = parsed.Value("--config");
        if (configFile is not null && !File.Exists(configFile))
        {
            throw new UsageException($"--config {configFile} does not exist");
        }
        var journal = parsed.Value("--journal") ?? Env("ORCHESTRATOR_JOURNAL")
            ?? throw new UsageException("--journal is required on a node: postgres:CONNECTION for a real cluster, or sqlite:FILE for nodes on one machine");
        if (journal == "sqlite")
        {
            throw new UsageException("--journal sqlite names no file on a node; use sqlite:FILE (on the shared volume) or postgres:CONNECTION");
        }
        return new ClusterSettings(hostname, port, join, devices, configFile, Secret(parsed), JournalSettings.Parse(journal, "."), managementPort);
    }

    /// <summary>Akka.Management's usual port, where probes and other nodes' bootstrap look.</summary>
    public const int DefaultManagementPort = 8558;

    /// <summary>Seeds, or Cluster Bootstrap through a discovery method: one of the two, never both.</summary>
    private static ClusterJoin Join(ParsedArguments parsed)
    {
        var seeds = parsed.Value("--seeds") ?? Env("ORCHESTRATOR_SEEDS");
        var discovery = parsed.Value("--discovery") ?? Env("ORCHESTRATOR_DISCOVERY");
        var contactPoints = parsed.Value("--contact-points") ?? Env("ORCHESTRATOR_CONTACT_POINTS");
        var selector = parsed.Value("--pod-label-selector") ?? Env("ORCHESTRATOR_POD_LABEL_SELECTOR");
        if (seeds is not null && discovery is not null)
        {
            throw new UsageException("--seeds and --discovery exclude each other: give --seeds HOST:PORT,... or --discovery config --contact-points HOST:MGMT_PORT,... (or --discovery kubernetes)");
        }
        if (discovery is null && (contactPoints ?? selector) is not null)
        {
            throw new UsageException($"{(contactPoints is not null ? "--contact-points" : "--pod-label-selector")} needs --discovery {(contactPoints is not null ? "config" : "kubernetes")}");
        }
        return discovery switch
        {
            null when seeds is not null => new ClusterJoin.Seeds(HostPorts("--seeds", seeds)),
            null => throw new UsageException("--seeds or --discovery is required: --discovery config --contact-points HOST:MGMT_PORT,... (every node the same list), " +
                "--discovery kubernetes, or --seeds HOST:PORT,... (a seed names itself first)"),
            "config" when selector is not null => throw new UsageException("--pod-label-selector is for --discovery kubernetes; --discovery config takes --contact-points"),
            "config" => new ClusterJoin.ContactPoints(HostPorts("--contact-points", contactPoints
                ?? throw new UsageException("--discovery config needs --contact-points HOST:MGMT_PORT,... (the management ports of the nodes, this one included)"))),
            "kubernetes" when contactPoints is not null => throw new UsageException("--contact-points is for --discovery config; --discovery kubernetes finds pods by --pod-label-selector"),
            "kubernetes" => new ClusterJoin.KubernetesPods(selector is { Length: > 0 } && selector.Contains('=', StringComparison.Ordinal) ? selector
                : selector is null ? "app=orchestrator" : throw new UsageException($"--pod-label-selector '{selector}' is not a label selector like app=orchestrator")),
            _ => throw new UsageException($"--discovery {discovery} is not a method this node knows: config (with --contact-points) or kubernetes"),
        };
    }

    /// <summary>The node's whole config: a --config file that does not parse is the user's error, never skipped.</summary>
    public static Config NodeConfig(ClusterSettings settings)
    {
        try
        {
            return settings.ToConfig();
        }
        catch (HoconFileException e)
        {
            throw new UsageException(e.Message);
        }
    }

    /// <summary>
    /// The node's credentials: a node without a secret would let anyone who reaches it join, submit, stop and
    /// read jobs, so it runs only when told --insecure, and then says so.
    /// </summary>
    public static ClusterCredentials NodeCredentials(Config config, bool insecure)
    {
        var credentials = ClusterCredentials.From(config);
        if (credentials.IsOpen && !insecure)
        {
            throw new UsageException("this node has no cluster secret: give --secret-file FILE, ORCHESTRATOR_SECRET or orchestrator.cluster.secret in --config " +
                "(the same on every node and client), or --insecure for a cluster nobody else can reach");
        }
        if (!credentials.IsOpen && insecure)
        {
            throw new UsageException("--insecure and a cluster secret contradict each other: drop --insecure to keep the secret, or give no secret");
        }
        if (insecure)
        {
            Console.Error.WriteLine($"warning: {InsecureCluster}");
        }
        return credentials;
    }

    /// <summary>The secret from --secret-file or ORCHESTRATOR_SECRET; null leaves the config's (empty by default).</summary>
    public static string? Secret(ParsedArguments parsed)
    {
        if (parsed.Value("--secret-file") is { } file)
        {
            return File.Exists(file) ? File.ReadAllText(file).Trim() : throw new UsageException($"--secret-file {file} does not exist");
        }
        return Env("ORCHESTRATOR_SECRET");
    }

    public static int? MetricsPort(ParsedArguments parsed) => parsed.Int("--metrics-port") ?? EnvInt("ORCHESTRATOR_METRICS_PORT");

    public static string HostPort(string flag, string? text) => HostPorts(flag, text ?? throw new UsageException($"{flag} HOST:PORT is required"))[0];

    private static string[] HostPorts(string flag, string text)
    {
        var list = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var item in list)
        {
            var colon = item.LastIndexOf(':');
            if (colon <= 0 || !int.TryParse(item.AsSpan(colon + 1), out var port) || port is < 1 or > 65535)
            {
                throw new UsageException($"{flag} entry '{item}' is not HOST:PORT");
            }
        }
        return list.Length > 0 ? list : throw new UsageException($"{flag} is empty (HOST:PORT)");
    }

    private static string? Env(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : null;

    private static int? EnvInt(string name) => Env(name) is { } text
        ? int.TryParse(text, out var value) ? value : throw new UsageException($"{name}='{text}' is not a port number")
        : null;
}
