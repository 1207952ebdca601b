using Orchestrator.Trainer.Data;
using Orchestrator.Trainer.Tensors;

namespace Orchestrator.Trainer.Interop;

/// <summary>
/// Reads a state_dict saved by <c>torch.save</c> (PyTorch 1.6 and later): a zip holding <c>ARCHIVE/data.pkl</c>,
/// the pickled dict, whose tensors refer to storages <c>ARCHIVE/data/KEY</c> in the same zip. The pickle is
/// read by <see cref="RestrictedUnpickler"/> (no code runs); every tensor's view is checked against its
/// storage's bytes, and a contiguous one stays in the mapped file.
/// </summary>
internal static class TorchZipReader
{
    public static (List<KeyValuePair<string, HostTensor>> Tensors, IReadOnlyList<string> Notes) Read(string path, MappedFile file)
    {
        if (!ZipEntries.LooksLikeZip(file))
        {
            throw StateDictRefusal.Of(path, Starts(file, [0x80]) // a pickle's PROTO: the legacy format is pickles end to end
                ? "is in PyTorch's legacy (before 1.6) torch.save format; re-save it with a current PyTorch (torch.save(state_dict, path)) or as safetensors"
                : Starts(file, "PK\u0003\u0004"u8)
                    ? "is a zip without its directory at the end: the file is truncated; copy or save it again"
                    : "is not a torch.save file (not a zip archive); save the state_dict with torch.save, or as safetensors");
        }
        var zip = ZipEntries.Read(path, file);
        var pickles = zip.Names.Where(n => n.EndsWith("/data.pkl", StringComparison.Ordinal) && n.IndexOf('/') == n.Length - "/data.pkl".Length).ToList();
        if (pickles.Count != 1)
        {
            throw StateDictRefusal.Of(path, $"is a zip, but not a torch.save archive (it needs exactly one ARCHIVE/data.pkl, found {pickles.Count})");
        }
        var archive = pickles[0][..^"data.pkl".Length];
        if (zip.TryGet(archive + "byteorder", out var byteOrder) && Text(path, file, byteOrder) != "little")
        {
            throw StateDictRefusal.Of(path, "was saved on a big-endian machine; re-save it on a little-endian one or as safetensors");
        }
        var root = RestrictedUnpickler.Load(path, Bytes(path, file, Entry(path, zip, pickles[0], "the pickle")));
        var found = StateDictRoot.Find(path, root);
        var tensors = found.Tensors.Select(t => KeyValuePair.Create(t.Key, Materialize(path, file, zip, archive, t.Key, t.Value))).ToList();
        return (tensors, found.Notes);
    }

    private static HostTensor Materialize(string path, MappedFile file, ZipEntries zip, string archive, string name, TensorRef tensor)
    {
        var storage = tensor.Storage;
        var entry = Entry(path, zip, archive + "data/" + storage.Key, $"the storage of tensor '{name}'");
        var elementSize = TensorDTypes.ElementSize(storage.DType);
        if (storage.Count > entry.Size / elementSize)
        {
            throw StateDictRefusal.Of(path, $"the storage of tensor '{name}' ({entry.Name}) holds {entry.Size} bytes, not the {storage.Count} {storage.DType} elements its pickle says");
        }
        var count = TensorDTypes.ElementCount(tensor.Shape);
        var last = LastElement(tensor);
        if (count is null || last is null || (count > 0 && last >= storage.Count))
        {
            throw StateDictRefusal.Of(path, $"tensor '{name}' of shape [{string.Join(", ", tensor.Shape)}] (stride [{string.Join(", ", tensor.Stride)}], offset {tensor.Offset}) reaches past its storage of {storage.Count} elements");
        }
        var bytes = count.Value * elementSize; // within the storage's bytes, unless strides repeat elements
        if (bytes > int.MaxValue || bytes > file.Length)
        {
            throw StateDictRefusal.Of(path, $"tensor '{name}' holds {bytes} bytes; one tensor may hold at most {Math.Min(int.MaxValue, file.Length)} here (its file's size, or 2 GiB)");
        }
        var start = entry.DataOffset + tensor.Offset * elementSize;
        if (count == 0 || IsContiguous(tensor))
        {
            return new HostTensor(storage.DType, tensor.Shape, new MappedRegion(file, count == 0 ? entry.DataOffset : start, (int)bytes).Memory);
        }
        return new HostTensor(storage.DType, tensor.Shape, Gather(file, entry.DataOffset, tensor, elementSize, (int)bytes));
    }

    // The index of the view's last element in its storage: offset + sum of (size - 1) * stride; null on overflow.
    private static long? LastElement(TensorRef tensor)
    {
        try
        {
            var last = tensor.Offset;
            for (var dim = 0; dim < tensor.Shape.Length; dim++)
            {
                if (tensor.Shape[dim] > 0)
                {
                    last = checked(last + checked((tensor.Shape[dim] - 1) * tensor.Stride[dim]));
                }
            }
            return last;
        }
        catch (OverflowException)
        {
            return null;
        }
    }

    private static bool IsContiguous(TensorRef tensor)
    {
        var expected = 1L;
        for (var dim = tensor.Shape.Length - 1; dim >= 0; dim--)
        {
            if (tensor.Shape[dim] != 1 && tensor.Stride[dim] != expected)
            {
                return false;
            }
            expected *= tensor.Shape[dim];
        }
        return true;
    }

    // A view that is not contiguous (a transpose, a slice with a step) is copied out element by element, in
    // row-major order, which is how the model's tensor lays it out.
    private static byte[] Gather(MappedFile file, long storageStart, TensorRef tensor, int elementSize, int bytes)
    {
        var target = new byte[bytes];
        var index = new long[tensor.Shape.Length];
        for (var written = 0; written < bytes; written += elementSize)
        {
            var element = tensor.Offset;
            for (var dim = 0; dim < index.Length; dim++)
            {
                element += index[dim] * tensor.Stride[dim];
            }
            file.Slice(storageStart + element * elementSize, elementSize).CopyTo(target.AsSpan(written));
            for (var dim = index.Length - 1; dim >= 0 && ++index[dim] == tensor.Shape[dim]; dim--)
            {
                index[dim] = 0;
            }
        }
        return target;
    }

    private static ZipEntries.ZipEntry Entry(string path, ZipEntries zip, string name, string what)
    {
        if (!zip.TryGet(name, out var entry))
        {
            throw StateDictRefusal.Of(path, $"{what} ({name}) is missing from the zip");
        }
        return entry.IsStored
            ? entry
            : throw StateDictRefusal.Of(path, $"{what} ({name}) is compressed; torch.save stores its entries uncompressed, so re-save it with torch.save");
    }

    private static byte[] Bytes(string path, MappedFile file, ZipEntries.ZipEntry entry) =>
        entry.Size <= int.MaxValue
            ? file.Slice(entry.DataOffset, (int)entry.Size).ToArray()
            : throw StateDictRefusal.Of(path, $"its pickle ({entry.Name}) holds {entry.Size} bytes, more than a state_dict's pickle needs");

    private static bool Starts(MappedFile file, ReadOnlySpan<byte> prefix) => file.Length >= prefix.Length && file.Slice(0, prefix.Length).SequenceEqual(prefix);

    private static string Text(string path, MappedFile file, ZipEntries.ZipEntry entry) =>
        System.Text.Encoding.ASCII.GetString(Bytes(path, file, entry)).Trim();
}
