using System.Text.Json;
using System.Text.Json.Serialization;

namespace Orchestrator.Cli.Commands;

/// <summary>
/// The JSON form of <c>train</c>'s flags (camelCase names: <c>{"job": "cnn", "steps": 500, "checkpointEvery": 50}</c>).
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

    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    public static TrainConfigFile Read(string path)
    {
        if (!File.Exists(path))
        {
            throw new UsageException($"config file {path} does not exist");
        }
        try
        {
            return JsonSerializer.Deserialize<TrainConfigFile>(File.ReadAllText(path), Options)
                ?? throw new UsageException($"config file {path} is empty");
        }
        catch (JsonException e)
        {
            throw new UsageException($"config file {path} is not valid: {e.Message.Split('\n')[0]} (it must be a JSON object of train options)");
        }
    }
}
