using System.Text;
using System.Text.Json.Nodes;
using Orchestrator.Trainer.Tensors;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Checkpointing;

/// <summary>
/// A TorchSharp optimizer's full state (Adam's step counts and both moments included), kept in TorchSharp's
/// own state-dict format so it stays exact across versions of this program.
/// </summary>
public sealed class OptimizerCheckpointable(optim.Optimizer optimizer, Device device) : IDeferredCheckpointable, IRefusedOnRestore
{
    private int _blobLength;

    public ComponentState Capture()
    {
        var helper = AsHelper();
        using var memory = new MemoryStream(EstimatedLength());
        using (var writer = new BinaryWriter(memory, Encoding.UTF8, leaveOpen: true))
        {
            helper.save_state_dict(writer);
        }
        return new ComponentState([], memory.ToArray(), Metadata());
    }

    /// <summary>
    /// Writes the same bytes as <c>save_state_dict</c>, in its order: the type name, the counts, each parameter
    /// group's options, then each parameter's state. The options hold the learning rate, which the scheduler
    /// sets before the next forward pass, so they are written now; the states (step counts and moments)
    /// change only in <c>step()</c>, so they are written later, in the background. State on a GPU is copied
    /// now, all of it.
    /// </summary>
    public Func<ComponentState> Capture(SnapshotBuffers buffers)
    {
        if (device.type != DeviceType.CPU)
        {
            var now = Capture();
            return () => now;
        }
        var dictionary = AsHelper().state_dict();
        using var head = new MemoryStream();
        using (var writer = new BinaryWriter(head, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(optimizer.GetType().Name);
            TensorFile.WriteLeb128(writer, dictionary.Options.Count);
            TensorFile.WriteLeb128(writer, dictionary.State.Count);
            foreach (var options in dictionary.Options)
            {
                options.SaveStateDict(writer);
            }
        }
        var prefix = head.ToArray();
        var states = dictionary.State.ToList();
        var lastLength = Volatile.Read(ref _blobLength);
        var metadata = Metadata();
        return () =>
        {
            // The first save measures the states in a pass that copies nothing, so that its blob is written
            // once into an array of the right size; later saves take the previous length.
            var length = lastLength > 0 ? lastLength : prefix.Length + SnapshotBlobStream.Measure(w => states.ForEach(s => s.SaveStateDict(w)));
            var blob = new SnapshotBlobStream(buffers, length);
            using (var writer = new BinaryWriter(blob, Encoding.UTF8, leaveOpen: true))
            {
                writer.Write(prefix);
                foreach (var state in states)
                {
                    state.SaveStateDict(writer);
                }
            }
            var bytes = blob.ToArray();
            Volatile.Write(ref _blobLength, bytes.Length);
            return new ComponentState([], bytes, metadata);
        };
    }

    public IReadOnlyList<string> Restore(ComponentState state)
    {
        var savedType = state.Metadata?["type"]?.GetValue<string>();
        if (savedType is not null && savedType != optimizer.GetType().Name)
        {
            throw new CheckpointMismatchException($"checkpoint holds {savedType} optimizer state but this job uses {optimizer.GetType().Name}; resume with --no-optimizer-state or use the same optimizer");
        }
        if (state.Blob is null)
        {
            throw new InvalidDataException("checkpoint has no optimizer state");
        }
        var helper = AsHelper();
        // A refusal must leave the optimizer as it was, so that an older checkpoint (or a fresh start) can
        // follow: a copy of its present state is kept to be put back (the restore's peak memory grows by it).
        var before = Capture().Blob!;
        var problem = Load(helper, state.Blob);
        if (problem is not null)
        {
            Load(helper, before);
            helper.to(device);
            throw new CorruptCheckpointException(problem);
        }
        helper.to(device);
        return [];
    }

    /// <summary>Loads <paramref name="blob"/>; returns why it is refused, or null when the whole blob was the optimizer's state.</summary>
    private static string? Load(OptimizerHelper helper, byte[] blob)
    {
        using var reader = new BinaryReader(new MemoryStream(blob));
        try
        {
            helper.load_state_dict(reader);
        }
        catch (Exception e) when (e is EndOfStreamException or InvalidDataException)
        {
            return $"does not hold a whole optimizer state ({e.Message}; crafted or corrupt, refused)";
        }
        // Bytes past the state are nothing this program wrote: a sealed blob padded by someone else.
        return reader.BaseStream.Position == blob.Length
            ? null
            : $"holds {blob.Length - reader.BaseStream.Position} bytes past the end of the optimizer's state (crafted or corrupt, refused)";
    }

    // Room for every parameter three times over (Adam's two moments and more): growing by doubling would
    // copy hundreds of megabytes more.
    private int EstimatedLength() =>
        (int)Math.Min(Array.MaxLength, (3 * optimizer.parameters().Sum(p => p.numel() * p.element_size())) + 4096);

    private JsonObject Metadata() => new() { ["type"] = optimizer.GetType().Name };

    private OptimizerHelper AsHelper() => optimizer as OptimizerHelper
        ?? throw new NotSupportedException($"optimizer {optimizer.GetType().Name} cannot save its state");
}
