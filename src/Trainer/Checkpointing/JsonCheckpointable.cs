using System.Text.Json;
using System.Text.Json.Nodes;

namespace Orchestrator.Trainer.Checkpointing;

/// <summary>A component whose whole state is a small serialisable value (a cursor, counters, user data).</summary>
public sealed class JsonCheckpointable<T>(Func<T> read, Action<T> write) : ICheckpointable
{
    public ComponentState Capture() => ComponentState.FromJson(JsonSerializer.SerializeToNode(read(), CheckpointJson.Options));

    public IReadOnlyList<string> Restore(ComponentState state)
    {
        var value = state.Metadata.Deserialize<T>(CheckpointJson.Options)
            ?? throw new InvalidDataException($"checkpoint holds no {typeof(T).Name}");
        write(value);
        return [];
    }
}

public static class CheckpointJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
    };

    public static JsonNode? ToNode<T>(T value) => JsonSerializer.SerializeToNode(value, Options);
}
