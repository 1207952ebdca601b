using System.Text.Json.Serialization;
using Orchestrator.Trainer.Jobs.Loading;

namespace Orchestrator.Trainer.Checkpointing;

/// <summary>Readable facts about a checkpoint, stored in its manifest (in <c>checkpoint.json</c> before format 3).</summary>
public sealed record CheckpointInfo(
    string Job,
    long Iteration,
    long Epoch,
    long SamplesSeen,
    string WeightsSha256,
    string Reason,
    DateTimeOffset CreatedUtc,
    int TorchThreads)
{
    /// <summary>The user's job assembly the checkpoint's job came from; null (and not written) for a built-in job.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public JobAssemblyRef? JobAssembly { get; init; }

    /// <summary>The job's arguments (<c>--job-arg</c> and the job settings); null (and not written) when there were none.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyDictionary<string, string>? JobArgs { get; init; }
}

/// <summary>A checkpoint held in memory: everything captured between two steps, ready for the writer.</summary>
public sealed record CheckpointSnapshot(CheckpointInfo Info, IReadOnlyDictionary<string, ComponentState> Components) : ISnapshotContents
{
    public long ByteCount => Components.Values.Sum(c => c.ByteCount);

    /// <summary>In name order, so two writes of one snapshot list their files alike.</summary>
    public IReadOnlyList<string> ComponentNames => [.. Components.Keys.Order(StringComparer.Ordinal)];

    public ComponentState Component(string name) => Components[name];

    /// <summary>As given, or being computed already, or computed now on another core while the files are written.</summary>
    public Task<string> WeightsDigest() => Info.WeightsSha256 is { Length: > 0 } known
        ? Task.FromResult(known)
        : WeightsDigestInFlight ?? Task.Run(WeightsSha256);

    /// <summary>
    /// The weights digest, when it is already being computed elsewhere (see <see cref="PendingSnapshot"/>);
    /// null when the writer has to compute it.
    /// </summary>
    public Task<string>? WeightsDigestInFlight { get; init; }

    /// <summary>Fills in the weights digest from the captured model; done by the writer, off the training thread.</summary>
    public CheckpointSnapshot WithWeightsDigest() =>
        ModelDigest() is { } digest ? this with { Info = Info with { WeightsSha256 = digest } } : this;

    /// <summary>weights-sha256 (see <see cref="Tensors.WeightsDigest"/>): as given, or computed from the captured model ("" without one).</summary>
    internal string WeightsSha256() => Info.WeightsSha256 is { Length: > 0 } known ? known : ModelDigest() ?? "";

    private string? ModelDigest() =>
        Components.TryGetValue(ModelCheckpointable.ComponentName, out var model) ? Tensors.WeightsDigest.Of(model.Tensors) : null;
}

/// <summary>A checkpoint read back from disk and verified against its manifest.</summary>
public sealed record LoadedCheckpoint(string Path, string Name, CheckpointInfo Info, IReadOnlyDictionary<string, ComponentState> Components);
