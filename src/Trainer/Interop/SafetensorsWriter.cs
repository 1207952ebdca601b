using System.Buffers.Binary;
using System.Text.Encodings.Web;
using System.Text.Json;
using Orchestrator.Trainer.Tensors;

namespace Orchestrator.Trainer.Interop;

/// <summary>
/// The safetensors layout as published: an 8-byte little-endian header length, a JSON header naming each
/// tensor's dtype, shape and byte range (<c>data_offsets</c>, relative to the end of the header) plus string
/// <c>__metadata__</c>, padded with spaces so the data starts 8-byte aligned, then every tensor's raw
/// little-endian bytes in the header's order, with no gaps. The header is built from shapes alone, so each
/// tensor is written straight from the array it is held in.
/// </summary>
internal static class SafetensorsWriter
{
    private const int Alignment = 8;

    public static byte[] Header(IReadOnlyList<KeyValuePair<string, HostTensor>> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        using var json = new MemoryStream();
        // Quotes and non-ASCII names stay readable in the header (the default encoder writes \u0022); still valid JSON.
        using (var writer = new Utf8JsonWriter(json, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            writer.WriteStartObject("__metadata__");
            foreach (var (key, value) in metadata)
            {
                writer.WriteString(key, value);
            }
            writer.WriteEndObject();
            var seen = new HashSet<string>(StringComparer.Ordinal) { "__metadata__" };
            long offset = 0;
            foreach (var (name, tensor) in tensors)
            {
                if (!seen.Add(name))
                {
                    throw new ExportException($"two tensors would both be named '{Checkpointing.PrintableText.Escape(name)}' in the safetensors file");
                }
                writer.WriteStartObject(name);
                writer.WriteString("dtype", TensorDTypes.SafetensorsName(tensor.DType));
                writer.WriteStartArray("shape");
                foreach (var dimension in tensor.Shape)
                {
                    writer.WriteNumberValue(dimension);
                }
                writer.WriteEndArray();
                writer.WriteStartArray("data_offsets");
                writer.WriteNumberValue(offset);
                offset += tensor.Bytes.Length;
                writer.WriteNumberValue(offset);
                writer.WriteEndArray();
                writer.WriteEndObject();
            }
            writer.WriteEndObject();
        }
        var padded = (int)((8 + json.Length + Alignment - 1) / Alignment * Alignment) - 8;
        var header = new byte[8 + padded];
        BinaryPrimitives.WriteUInt64LittleEndian(header, (ulong)padded);
        json.GetBuffer().AsSpan(0, (int)json.Length).CopyTo(header.AsSpan(8));
        header.AsSpan(8 + (int)json.Length).Fill((byte)' ');
        return header;
    }

    public static long Size(IReadOnlyList<KeyValuePair<string, HostTensor>> tensors, IReadOnlyDictionary<string, string> metadata) =>
        Header(tensors, metadata).Length + tensors.Sum(t => (long)t.Value.Bytes.Length);

    public static void Write(ExportFile file, IReadOnlyList<KeyValuePair<string, HostTensor>> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        file.Write(Header(tensors, metadata));
        foreach (var (_, tensor) in tensors)
        {
            file.Write(tensor.Bytes.Span);
        }
    }
}
