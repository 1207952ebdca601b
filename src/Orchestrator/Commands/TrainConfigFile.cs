using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Orchestrator.Actors.Configuration;

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
    public string? GradientDtype { get; init; }
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

    // A config is a few hundred bytes; a cap stops /dev/zero or a wrong multi-GB file from being read whole.
    private const int MaxBytes = 1 << 20;

    // include nests this deep at the most: deeper is a file that includes itself.
    private const int MaxIncludeDepth = 8;

    public static TrainConfigFile Read(string path)
    {
        var text = ReadText(path, $"config file {path}");
        var isHocon = Path.GetExtension(path) is ".conf" or ".hocon";
        try
        {
            var json = isHocon ? HoconToJson(path, text) : text;
            return JsonSerializer.Deserialize<TrainConfigFile>(json, Options)
                ?? throw new UsageException($"config file {path} is empty");
        }
        catch (JsonException e)
        {
            // HOCON arrives here already converted, so its JSON line numbers would mislead: only JSON's are named.
            var at = !isHocon && e.LineNumber is { } line ? $" at line {line + 1}" : "";
            var message = e.Message.Split('\n')[0];
            message = message.Contains(" Path: ", StringComparison.Ordinal) ? message[..message.IndexOf(" Path: ", StringComparison.Ordinal)] : message;
            throw new UsageException($"config file {path} is not valid{at}: {message} (it must be a {(isHocon ? "HOCON" : "JSON")} object of train options)");
        }
    }

    // The file's text, or one line saying why it cannot be had: missing, a folder, unreadable, or far too big.
    private static string ReadText(string path, string what)
    {
        if (Directory.Exists(path))
        {
            throw new UsageException($"{what} is a folder; give the config file's path");
        }
        if (!File.Exists(path))
        {
            throw new UsageException($"{what} does not exist");
        }
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read);
            var buffer = new byte[MaxBytes + 1];
            var read = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
            return read > MaxBytes
                ? throw new UsageException($"{what} is larger than {MaxBytes / (1 << 20)} MiB; is it the right file?")
                : System.Text.Encoding.UTF8.GetString(buffer, 0, read);
        }
        catch (UnauthorizedAccessException)
        {
            throw new UsageException($"{what} cannot be read (permission denied); fix its permissions");
        }
        catch (IOException e)
        {
            throw new UsageException($"{what} cannot be read ({e.Message.TrimEnd('.')})");
        }
    }

    // HOCON's scalars are all text to Akka's parser: numbers travel as JSON strings (read back as numbers
    // by AllowReadingFromString) and booleans as JSON booleans, so both formats share one typed record.
    // Lists (injectFaults, reviseKey, ignoreKeys) become arrays and jobArgs an object of text.
    private static string HoconToJson(string path, string text)
    {
        var root = ParseHocon(path, text, depth: 0).Value.GetObject();
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

    // Akka's parser, after the structural check it lacks; `include "other.conf"` reads that file from this
    // file's folder (checked the same way). A substitution is resolved within the file: ${HOME} and other
    // environment variables are not read, and say so.
    private static Akka.Configuration.Hocon.HoconRoot ParseHocon(string path, string text, int depth)
    {
        if (HoconSyntax.FirstError(text, HoconReferences.Allowed) is var (line, problem))
        {
            throw new UsageException($"config file {path} is not valid HOCON at line {line}: {problem}");
        }
        try
        {
            return Akka.Configuration.Hocon.Parser.Parse(text, name => Include(path, name, depth));
        }
        catch (FormatException e) when (e.Message.StartsWith("Unresolved substitution:", StringComparison.Ordinal))
        {
            var name = e.Message["Unresolved substitution:".Length..].Trim();
            throw new UsageException($"config file {path}{LineOf(text, "${" + name)}: ${{{name}}} is not a setting of the file (environment variables are not read); write the value out");
        }
        catch (Exception e) when (e is not UsageException)
        {
            throw new UsageException($"config file {path} is not valid HOCON: {e.Message.Split('\n')[0].TrimEnd('.')}");
        }
    }

    private static Akka.Configuration.Hocon.HoconRoot Include(string path, string name, int depth)
    {
        if (depth >= MaxIncludeDepth)
        {
            throw new UsageException($"config file {path} includes '{name}' {MaxIncludeDepth} levels deep; does a file include itself?");
        }
        var file = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, name));
        return ParseHocon(file, ReadText(file, $"config file {path} includes '{name}', but {file}"), depth + 1);
    }

    private static string LineOf(string text, string fragment) =>
        text.IndexOf(fragment, StringComparison.Ordinal) is var at and >= 0 ? $" at line {text.AsSpan(0, at).Count('\n') + 1}" : "";

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
