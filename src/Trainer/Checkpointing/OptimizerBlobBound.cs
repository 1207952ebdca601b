namespace Orchestrator.Trainer.Checkpointing;

/// <summary>
/// The most bytes an optimizer's state can take, judged from the checkpoint's own model: it is checked against
/// the size the manifest declares (and the file really has) before <c>optimizer.bin</c> is read, so a blob
/// padded to gigabytes and resealed is refused without being loaded into memory.
/// </summary>
/// <remarks>
/// The optimizers here keep at most three tensors per parameter, each the parameter's size (Adam and AdamW:
/// both moments and the amsgrad maximum; RMSProp: the square average, momentum buffer and centred average;
/// SGD: one momentum buffer), plus a step count, flags and the tensor's dtype and shape, under 64 bytes. The
/// model's tensors hold each parameter once with its name and header. So 8 times the model's bytes covers
/// three moments kept in a wider type than half-precision parameters, and their headers; the fixed part covers
/// the parameter groups' options and thousands of tiny tensors.
/// </remarks>
public static class OptimizerBlobBound
{
    public const string OptimizerComponent = "optimizer";
    public const int TimesModelBytes = 8;
    public const long FixedBytes = 1 << 20;

    /// <summary>Throws when the optimizer's blob is larger than the model makes possible. Reads no file.</summary>
    public static void Require(string name, CheckpointManifest manifest, IReadOnlyDictionary<string, ComponentEntry> components)
    {
        if (!components.TryGetValue(OptimizerComponent, out var optimizer) || optimizer.BlobFile is not { } blobFile
            || !manifest.Files.TryGetValue(blobFile, out var blob)
            || !components.TryGetValue(ModelCheckpointable.ComponentName, out var model))
        {
            return; // nothing to bound, or nothing to bound it by (a checkpoint of other components)
        }
        var bound = Of(ModelBytes(manifest, model));
        if (blob.Bytes > bound)
        {
            throw new CorruptCheckpointException(
                $"{name}: {PrintableText.Escape(blobFile)} declares {blob.Bytes} bytes, more than an optimizer's state for this model can take (at most {bound}: {TimesModelBytes} x the model's {ModelBytes(manifest, model)} bytes + {FixedBytes}); crafted or corrupt, refused");
        }
    }

    public static long Of(long modelBytes) =>
        modelBytes > (long.MaxValue - FixedBytes) / TimesModelBytes ? long.MaxValue : (TimesModelBytes * modelBytes) + FixedBytes;

    private static long ModelBytes(CheckpointManifest manifest, ComponentEntry model) =>
        model.InlineTensors?.LongLength
        ?? (model.TensorFile is { } file && manifest.Files.TryGetValue(file, out var entry) ? entry.Bytes : 0);
}
