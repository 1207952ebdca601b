using Orchestrator.Trainer.Checkpointing;
using Orchestrator.Trainer.Data;
using Orchestrator.Trainer.Tensors;

namespace Orchestrator.Trainer.Interop;

/// <summary>
/// A PyTorch state_dict file, open: safetensors (<c>.safetensors</c>) or <c>torch.save</c>'s zip (<c>.pt</c>,
/// <c>.pth</c>, <c>.bin</c>). Its tensors keep their dtypes and shapes and, where they lie contiguous in the
/// file, their bytes stay in the mapping until the load copies them into the model: the file is never held
/// twice. Dispose once the weights are loaded.
/// </summary>
public sealed class StateDictFile : IDisposable
{
    private static readonly string[] TorchSaveExtensions = [".pt", ".pth", ".bin"];
    private const string SafetensorsExtension = ".safetensors";

    private readonly MappedFile? _file;

    private StateDictFile(string path, MappedFile? file, List<KeyValuePair<string, HostTensor>> tensors, IReadOnlyList<string> notes)
    {
        Path = path;
        _file = file;
        Tensors = tensors;
        Notes = notes;
    }

    public string Path { get; }

    public string Name => System.IO.Path.GetFileName(Path);

    /// <summary>The tensors by their saved names, in the file's order.</summary>
    public IReadOnlyList<KeyValuePair<string, HostTensor>> Tensors { get; }

    /// <summary>Lines for the user about what was read and what was left out.</summary>
    public IReadOnlyList<string> Notes { get; }

    /// <summary>True for a path with an extension this reads (and that is not a checkpoint folder).</summary>
    public static bool Handles(string path) =>
        !Directory.Exists(path) && (IsSafetensors(path) || TorchSaveExtensions.Contains(System.IO.Path.GetExtension(path), StringComparer.OrdinalIgnoreCase));

    /// <summary>Opens and checks the whole file; a file that is not a state_dict of tensors is refused in one line.</summary>
    public static StateDictFile Open(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            throw StateDictRefusal.Of(path, "does not exist; give --load-from a .safetensors or .pt file, or a checkpoint folder");
        }
        if (info.Length == 0)
        {
            throw StateDictRefusal.Of(path, "is empty");
        }
        var file = MappedFile.Open(path, info.Length);
        try
        {
            var (tensors, notes) = IsSafetensors(path) ? (SafetensorsReader.Read(path, file), []) : TorchZipReader.Read(path, file);
            return new StateDictFile(path, file, tensors, [.. notes, Summary(path, tensors)]);
        }
        catch (Exception e)
        {
            file.Dispose();
            if (e is ArgumentOutOfRangeException or InvalidCastException or OverflowException)
            {
                // A bound this reader missed still ends as a refusal, not a crash.
                throw StateDictRefusal.Of(path, "is damaged: a size or offset in it does not fit the file");
            }
            throw;
        }
    }

    /// <summary>The tensors as a checkpoint holding only a model, for the same load as a checkpoint's weights.</summary>
    public LoadedCheckpoint AsCheckpoint() => new(
        Path,
        Name,
        new CheckpointInfo("", 0, 0, 0, "", "pytorch state_dict", File.GetLastWriteTimeUtc(Path), 0),
        new Dictionary<string, ComponentState>(StringComparer.Ordinal)
        {
            [ModelCheckpointable.ComponentName] = new ComponentState(Tensors, null, null),
        });

    public void Dispose() => _file?.Dispose();

    private static bool IsSafetensors(string path) => System.IO.Path.GetExtension(path).Equals(SafetensorsExtension, StringComparison.OrdinalIgnoreCase);

    private static string Summary(string path, List<KeyValuePair<string, HostTensor>> tensors)
    {
        var types = tensors.GroupBy(t => t.Value.DType).Select(g => $"{g.Count()} {g.Key.ToString().ToLowerInvariant()}");
        return $"read {tensors.Count} tensors ({string.Join(", ", types)}) from {System.IO.Path.GetFileName(path)}";
    }
}
