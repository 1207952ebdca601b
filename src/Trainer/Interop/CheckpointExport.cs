using System.Globalization;
using Orchestrator.Trainer.Checkpointing;
using Orchestrator.Trainer.Tensors;

namespace Orchestrator.Trainer.Interop;

public enum ExportFormat
{
    Safetensors,
    PyTorch,
}

/// <param name="Prefix">Prepended to every weight name (e.g. <c>module.</c> for a DataParallel model).</param>
public sealed record ExportRequest(ExportFormat Format, string OutPath, string Prefix = "", bool WithOptimizer = false);

public sealed record ExportedFile(string Path, long Bytes);

/// <param name="WeightsSha256">The digest written into the safetensors metadata: the checkpoint's, or computed for one that records none.</param>
public sealed record ExportResult(IReadOnlyList<ExportedFile> Files, int Tensors, string? OptimizerType, int OptimizerStates, string WeightsSha256);

/// <summary>
/// Writes a verified, loaded checkpoint's model (and optionally its optimizer) as files PyTorch reads: one
/// safetensors file (plus <c>NAME.optimizer.safetensors</c>), or one <c>.pt</c> holding the state dict, or
/// <c>{"model": state_dict, "optimizer": optimizer_state_dict}</c> with the optimizer. Every tensor keeps its
/// dtype, shape and bytes; each is written straight from the array the checkpoint was loaded into, so the
/// export holds the model once. Each file is committed by rename (see <see cref="ExportFile"/>): the files
/// appear only when the whole export has been written.
/// </summary>
public static class CheckpointExport
{
    public const string Exporter = "orchestrator";

    /// <summary>Where the safetensors export puts the optimizer: <c>model.safetensors</c> -> <c>model.optimizer.safetensors</c>.</summary>
    public static string OptimizerPathFor(string outPath) =>
        (outPath.EndsWith(".safetensors", StringComparison.Ordinal) ? outPath[..^".safetensors".Length] : outPath) + ".optimizer.safetensors";

    /// <summary>Every file the export would write, for the caller's check that none exists yet.</summary>
    public static IReadOnlyList<string> OutputsOf(ExportRequest request) =>
        request.Format == ExportFormat.Safetensors && request.WithOptimizer ? [request.OutPath, OptimizerPathFor(request.OutPath)] : [request.OutPath];

    public static ExportResult Run(LoadedCheckpoint checkpoint, ExportRequest request, Action<long, long>? progress = null)
    {
        if (!checkpoint.Components.TryGetValue(ModelCheckpointable.ComponentName, out var model) || model.Tensors.Count == 0)
        {
            throw new ExportException($"{PrintableText.Escape(checkpoint.Name)} holds no model weights to export");
        }
        var weights = model.Tensors.Select(t => KeyValuePair.Create(request.Prefix + t.Key, t.Value)).ToList();
        var optimizer = request.WithOptimizer ? OptimizerOf(checkpoint, weights.Count) : null;
        var optimizerTensors = optimizer?.NamedTensors() ?? [];
        var total = weights.Concat(optimizerTensors).Sum(t => (long)t.Value.Bytes.Length);
        var meter = new ExportProgress(total, progress);
        var metadata = Metadata(checkpoint);
        var files = new List<ExportFile>();
        try
        {
            if (request.Format == ExportFormat.Safetensors)
            {
                files.Add(ExportFile.Create(request.OutPath, meter));
                SafetensorsWriter.Write(files[^1], weights, metadata);
                if (optimizer is not null)
                {
                    var optimizerMetadata = new Dictionary<string, string>(metadata)
                    {
                        ["optimizer"] = optimizer.Type,
                        ["param_groups"] = optimizer.ParamGroupsJson(),
                    };
                    files.Add(ExportFile.Create(OptimizerPathFor(request.OutPath), meter));
                    SafetensorsWriter.Write(files[^1], optimizerTensors, optimizerMetadata);
                }
            }
            else
            {
                files.Add(ExportFile.Create(request.OutPath, meter));
                WritePyTorch(files[0], weights, optimizer);
            }
            // Every file is whole before any is renamed into place.
            foreach (var file in files)
            {
                file.Commit();
            }
            return new ExportResult(files.Select(f => new ExportedFile(f.FinalPath, f.Position)).ToList(), weights.Count, optimizer?.Type, optimizer?.StateCount ?? 0, metadata["weights-sha256"]);
        }
        finally
        {
            files.ForEach(f => f.Dispose());
        }
    }

    private static PyTorchOptimizerLayout OptimizerOf(LoadedCheckpoint checkpoint, int modelTensors)
    {
        if (!checkpoint.Components.TryGetValue("optimizer", out var component) || component.Blob is null)
        {
            throw new ExportException($"{PrintableText.Escape(checkpoint.Name)} holds no optimizer state (export without --with-optimizer)");
        }
        TorchSharpOptimizerState state;
        try
        {
            state = TorchSharpOptimizerState.Parse(component.Blob);
        }
        catch (Exception e) when (e is InvalidDataException or OverflowException)
        {
            throw new ExportException($"{PrintableText.Escape(checkpoint.Name)}: optimizer.bin matches its hash but is not a TorchSharp optimizer state ({e.Message})");
        }
        if (state.States.Count > modelTensors)
        {
            throw new ExportException($"{PrintableText.Escape(checkpoint.Name)}: the optimizer holds state for {state.States.Count} parameters but the model has {modelTensors} tensors");
        }
        return new PyTorchOptimizerLayout(state);
    }

    private static Dictionary<string, string> Metadata(LoadedCheckpoint checkpoint) => new(StringComparer.Ordinal)
    {
        ["format"] = "pt",
        ["job"] = checkpoint.Info.Job,
        ["step"] = checkpoint.Info.Iteration.ToString(CultureInfo.InvariantCulture),
        ["weights-sha256"] = checkpoint.Info.WeightsSha256 is { Length: > 0 } digest ? digest : WeightsDigest.Of(checkpoint.Components[ModelCheckpointable.ComponentName].Tensors),
        ["source-checkpoint"] = checkpoint.Name,
        ["exporter"] = Exporter,
    };

    /// <summary>data.pkl first (metadata only), then each tensor's bytes as <c>data/N</c>, then the version records.</summary>
    private static void WritePyTorch(ExportFile file, IReadOnlyList<KeyValuePair<string, HostTensor>> weights, PyTorchOptimizerLayout? optimizer)
    {
        var storages = new List<PyTensor>();
        PyTensor Storage(HostTensor tensor)
        {
            var pickled = new PyTensor(storages.Count.ToString(CultureInfo.InvariantCulture), tensor);
            storages.Add(pickled);
            return pickled;
        }
        var stateDict = new PyOrderedDict(weights.Select(w => KeyValuePair.Create(w.Key, (object?)Storage(w.Value))).ToList());
        object root = optimizer is null
            ? stateDict
            : new PyDict([new("model", stateDict), new("optimizer", optimizer.Pickled(Storage))]);
        var zip = new PyTorchZipWriter(file);
        zip.Add("data.pkl", PickleWriter.Serialize(root));
        zip.Add("byteorder", "little"u8);
        foreach (var storage in storages)
        {
            zip.Add($"data/{storage.StorageKey}", storage.Tensor.Bytes.Span);
        }
        zip.Add("version", "3\n"u8);
        zip.Finish();
    }
}
