using System.Text.Json;
using System.Text.Json.Serialization;

namespace Orchestrator.Cli.Commands;

/// <summary>
/// <c>train</c>'s flags as a file: JSON (<c>{"job": "cnn", "steps": 500, "checkpointEvery": 50}</c>) or, for
/// <c>.conf</c>/<c>.hocon</c> files, HOCON (<c>job = cnn, steps = 500</c>), with the same camelCase names.
/// Flags on the command line override the file. Unknown names are refused, so a typo is never ignored.
/// </summary>
internal sealed record TrainConfigFile
{
    public string? Job { get; init; }
    public string? WorkDir { get; init; }
    public long? Steps { get; init; }
    public long? Epochs { get; init; }
    public long? CheckpointEvery { get; init; }
    public long? CheckpointEveryEpochs { get; init; }
    public double? CheckpointEverySeconds { get; init; }
    public bool? SaveLast { get; init; }
    public int? Keep { get; init; }
    public string? NameTemplate { get; init; }
    public string? Resume { get; init; }
    public string? LoadFrom { get; init; }
    public long? Seed { get; init; }
    public string? Device { get; init; }
    public int? Threads { get; init; }
    public int? BatchSize { get; init; }
    public double? LearningRate { get; init; }
    public int? Samples { get; init; }
    public int? Width { get; init; }
    public int? Ranks { get; init; }
    public double? StepTimeout { get; init; }
    public int? MaxRestarts { get; init; }
    public double? RestartWindow { get; init; }
    public double? RestartBackoff { get; init; }
    public string[]? InjectFaults { get; init; }
    public string? Journal { get; init; }
    public int? MetricsPort { get; init; }

    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        NumberHandling = JsonNumberHandling.AllowReadingFromString,
    };

    public static TrainConfigFile Read(string path)
    {
        if (!File.Exists(path))
        {
            throw new UsageException($"config file {path} does not exist");
        }
        var isHocon = Path.GetExtension(path) is ".conf" or ".hocon";
        try
        {
            var json = isHocon ? HoconToJson(File.ReadAllText(path)) : File.ReadAllText(path);
            return JsonSerializer.Deserialize<TrainConfigFile>(json, Options)
                ?? throw new UsageException($"config file {path} is empty");
        }
        catch (JsonException e)
        {
            throw new UsageException($"config file {path} is not valid: {e.Message.Split('\n')[0]} (it must be a {(isHocon ? "HOCON" : "JSON")} object of train options)");
        }
        catch (Akka.Configuration.ConfigurationException e)
        {
            throw new UsageException($"config file {path} is not valid HOCON: {e.Message.Split('\n')[0]}");
        }
    }

    // HOCON's scalars are all text to Akka's parser: numbers travel as JSON strings (read back as numbers
    // by AllowReadingFromString) and booleans as JSON booleans, so both formats share one typed record.
    private static string HoconToJson(string text)
    {
        var root = Akka.Configuration.ConfigurationFactory.ParseString(text).Root.GetObject();
        var json = new System.Text.Json.Nodes.JsonObject();
        foreach (var (key, value) in root.Items)
        {
            if (!value.IsString())
            {
                throw new UsageException($"config setting '{key}' must be a plain value, not an object or list");
            }
            var scalar = value.GetString();
            json[key] = scalar is "true" or "false" ? System.Text.Json.Nodes.JsonValue.Create(scalar == "true") : System.Text.Json.Nodes.JsonValue.Create(scalar);
        }
        return json.ToJsonString();
    }
}
