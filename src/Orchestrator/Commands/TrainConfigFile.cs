using System.Text.Json;
using System.Text.Json.Nodes;
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
    public string? JobAssembly { get; init; }

    [JsonConverter(typeof(JobArgsConverter))]
    public Dictionary<string, string>? JobArgs { get; init; }
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
    public bool? DeleteExisting { get; init; }
    public bool? NoOptimizerState { get; init; }
    public bool? NoSchedulerState { get; init; }
    public bool? NonStrict { get; init; }
    public string? RemovePrefix { get; init; }
    public string? AddPrefix { get; init; }
    public string[]? ReviseKey { get; init; }
    public string[]? IgnoreKeys { get; init; }
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
    // Lists (injectFaults, reviseKey, ignoreKeys) become arrays and jobArgs an object of text.
    private static string HoconToJson(string text)
    {
        var root = Akka.Configuration.ConfigurationFactory.ParseString(text).Root.GetObject();
        var json = new JsonObject();
        foreach (var (key, value) in root.Items)
        {
            json[key] = key switch
            {
                "jobArgs" when value.IsObject() => new JsonObject(value.GetObject().Items.Select(item => KeyValuePair.Create(item.Key, (JsonNode?)JsonValue.Create(PlainText(item.Key, item.Value))))),
                _ when value.IsArray() => new JsonArray(value.GetArray().Select(element => (JsonNode?)JsonValue.Create(PlainText(key, element))).ToArray()),
                _ => Scalar(PlainText(key, value)),
            };
        }
        return json.ToJsonString();
    }

    private static string PlainText(string key, Akka.Configuration.Hocon.HoconValue value) =>
        value.IsString() ? value.GetString() : throw new UsageException($"config setting '{key}' must be a plain value here, not an object or list");

    private static JsonNode Scalar(string scalar) => scalar is "true" or "false" ? JsonValue.Create(scalar == "true") : JsonValue.Create(scalar);
}

/// <summary>jobArgs as text whatever JSON type each value has: <c>{"steps": 3, "name": "a"}</c> gives "3" and "a".</summary>
internal sealed class JobArgsConverter : JsonConverter<Dictionary<string, string>>
{
    public override Dictionary<string, string> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        using var document = JsonDocument.ParseValue(ref reader);
        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            throw new JsonException("jobArgs must be an object of KEY: VALUE");
        }
        return document.RootElement.EnumerateObject().ToDictionary(
            p => p.Name,
            p => p.Value.ValueKind switch
            {
                JsonValueKind.String => p.Value.GetString()!,
                JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => p.Value.GetRawText(),
                _ => throw new JsonException($"jobArgs.{p.Name} must be a plain value (text, number or true/false)"),
            },
            StringComparer.Ordinal);
    }

    public override void Write(Utf8JsonWriter writer, Dictionary<string, string> value, JsonSerializerOptions options) =>
        JsonSerializer.Serialize(writer, value);
}
