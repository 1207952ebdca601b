using System.Buffers.Binary;
using System.Text.Json;
using Orchestrator.Trainer.Data;
using Orchestrator.Trainer.Tensors;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Interop;

/// <summary>
/// Reads a safetensors file: an 8-byte little-endian header length, a JSON header naming each tensor's dtype,
/// shape and byte range in the data that follows, then the data. Every claim of the header is checked
/// against the file before anything is allocated; the tensors' bytes stay in the mapped file.
/// </summary>
internal static class SafetensorsReader
{
    /// <summary>The format's own reference implementation refuses headers over 100 MB; so does this one.</summary>
    public const long MaxHeaderBytes = 100_000_000;

    public static List<KeyValuePair<string, HostTensor>> Read(string path, MappedFile file)
    {
        if (file.Length < 8)
        {
            throw StateDictRefusal.Of(path, $"{file.Length} bytes is too short for a safetensors file (an 8-byte header length comes first)");
        }
        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(file.Slice(0, 8));
        if (headerLength > (ulong)Math.Min(MaxHeaderBytes, file.Length - 8))
        {
            throw StateDictRefusal.Of(path, $"the safetensors header claims {headerLength} bytes, but the file has {file.Length - 8} after the length and a header may have at most {MaxHeaderBytes}; the file is truncated or not safetensors");
        }
        var dataStart = 8 + (long)headerLength;
        var entries = ParseHeader(path, file.Slice(8, (int)headerLength), file.Length - dataStart);
        CheckLayout(path, entries, file.Length - dataStart);
        return entries
            .Select(e => KeyValuePair.Create(e.Name, new HostTensor(e.DType, e.Shape, new MappedRegion(file, dataStart + e.Begin, (int)(e.End - e.Begin)).Memory)))
            .ToList();
    }

    private sealed record Entry(string Name, ScalarType DType, long[] Shape, long Begin, long End);

    private static List<Entry> ParseHeader(string path, ReadOnlySpan<byte> header, long dataLength)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(header.ToArray(), new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException e)
        {
            throw StateDictRefusal.Of(path, $"the safetensors header is not valid JSON ({e.Message.Split('\n')[0].TrimEnd('.')})");
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw StateDictRefusal.Of(path, "the safetensors header is not a JSON object of tensors");
            }
            var entries = new List<Entry>();
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (!names.Add(property.Name))
                {
                    throw StateDictRefusal.Of(path, $"safetensors entry '{property.Name}' appears twice in the header");
                }
                if (property.Name == "__metadata__")
                {
                    continue; // free-form strings for people; nothing in it decides how tensors are read
                }
                entries.Add(ParseEntry(path, property.Name, property.Value, dataLength));
            }
            return entries;
        }
    }

    private static Entry ParseEntry(string path, string name, JsonElement value, long dataLength)
    {
        string Problem(string what) => $"safetensors entry '{name}' {what}";
        if (value.ValueKind != JsonValueKind.Object
            || !value.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String
            || !value.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array
            || !value.TryGetProperty("data_offsets", out var offsetsElement) || offsetsElement.ValueKind != JsonValueKind.Array)
        {
            throw StateDictRefusal.Of(path, Problem("needs \"dtype\" (a string), \"shape\" and \"data_offsets\" (arrays)"));
        }
        var dtypeName = dtypeElement.GetString()!;
        if (!TensorDTypes.TryFromSafetensors(dtypeName, out var dtype))
        {
            throw StateDictRefusal.Of(path, Problem($"has dtype '{dtypeName}', which is not one of {TensorDTypes.KnownSafetensorsNames}"));
        }
        var shape = new long[shapeElement.GetArrayLength()];
        var index = 0;
        foreach (var size in shapeElement.EnumerateArray())
        {
            if (size.ValueKind != JsonValueKind.Number || !size.TryGetInt64(out shape[index]) || shape[index] < 0)
            {
                throw StateDictRefusal.Of(path, Problem($"has a shape that is not a list of non-negative integers ({shapeElement.GetRawText()})"));
            }
            index++;
        }
        if (offsetsElement.GetArrayLength() != 2
            || !offsetsElement[0].TryGetInt64(out var begin) || !offsetsElement[1].TryGetInt64(out var end)
            || begin < 0 || end < begin || end > dataLength)
        {
            throw StateDictRefusal.Of(path, Problem($"has data_offsets {offsetsElement.GetRawText()} outside the {dataLength} data bytes the file holds (or not [begin, end])"));
        }
        var bytes = TensorDTypes.ElementCount(shape) is { } count && count <= long.MaxValue / TensorDTypes.ElementSize(dtype)
            ? count * TensorDTypes.ElementSize(dtype)
            : (long?)null;
        if (bytes != end - begin)
        {
            throw StateDictRefusal.Of(path, Problem($"of {dtypeName} {shapeElement.GetRawText()} needs {bytes?.ToString() ?? "more than 2^63"} bytes, but its data_offsets give {end - begin}"));
        }
        if (bytes > int.MaxValue)
        {
            throw StateDictRefusal.Of(path, Problem($"holds {bytes} bytes; one tensor may hold at most {int.MaxValue} here"));
        }
        return new Entry(name, dtype, shape, begin, end);
    }

    // The format's rule: the tensors tile the data exactly, without gaps or overlaps, so no byte is read twice
    // as two tensors and none hides between them.
    private static void CheckLayout(string path, List<Entry> entries, long dataLength)
    {
        var position = 0L;
        foreach (var entry in entries.OrderBy(e => e.Begin).ThenBy(e => e.End))
        {
            if (entry.Begin != position)
            {
                throw StateDictRefusal.Of(path, $"safetensors entry '{entry.Name}' starts at data byte {entry.Begin}, but the tensor before it ends at {position}; the data must be covered without gaps or overlaps");
            }
            position = entry.End;
        }
        if (position != dataLength)
        {
            throw StateDictRefusal.Of(path, $"the safetensors tensors end at data byte {position}, but the file holds {dataLength} data bytes");
        }
    }
}
