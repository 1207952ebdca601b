using System.Buffers.Binary;
using Tensorboard;

namespace Orchestrator.Trainer.Metrics;

/// <summary>
/// Reads and trims TensorBoard event files (TFRecord framing: length, masked CRC-32C of the length, the
/// Event protobuf, masked CRC-32C of the data). A record cut short by a killed process ends the file.
/// </summary>
public static class TensorBoardFiles
{
    public const string FilePattern = "events.out.tfevents.*";

    /// <summary>Every event of every file in the folder, files in the order they were started.</summary>
    public static IEnumerable<Event> ReadAll(string directory) =>
        Directory.Exists(directory)
            ? Directory.GetFiles(directory, FilePattern).Order(StringComparer.Ordinal).SelectMany(ReadFile)
            : [];

    public static List<Event> ReadFile(string path) => ReadFrom(path, 0).Events;

    /// <summary>
    /// The whole records from byte <paramref name="offset"/> on, and where the next read should start: a
    /// reader following a file that is still being written (<c>status --watch</c>) reads only what is new,
    /// and a record still half written is left for the next read.
    /// </summary>
    public static (List<Event> Events, long End) ReadFrom(string path, long offset)
    {
        byte[] bytes;
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
        {
            stream.Seek(offset, SeekOrigin.Begin);
            bytes = new byte[Math.Max(0, stream.Length - offset)];
            stream.ReadExactly(bytes);
        }
        var events = new List<Event>();
        var at = 0;
        while (at + 12 <= bytes.Length)
        {
            var length = BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(at));
            if (length > int.MaxValue || at + 12 + (long)length + 4 > bytes.Length)
            {
                break; // torn tail, or a record still being written
            }
            events.Add(Event.Parser.ParseFrom(bytes, at + 12, (int)length));
            at += 12 + (int)length + 4;
        }
        return (events, offset + at);
    }

    /// <summary>
    /// Removes scalars logged after <paramref name="step"/> (by a run that died before its next checkpoint),
    /// so a resumed run's steps are not shown twice. Files are rewritten by rename, never in place.
    /// </summary>
    public static void DropStepsAfter(string directory, long step)
    {
        if (!Directory.Exists(directory))
        {
            return;
        }
        foreach (var path in Directory.GetFiles(directory, FilePattern))
        {
            var events = ReadFile(path);
            var kept = events.Where(e => e.Summary is null || e.Step <= step).ToList();
            if (kept.Count == events.Count && new FileInfo(path).Length == events.Sum(RecordLength))
            {
                continue;
            }
            var temporary = path + ".tmp";
            using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write))
            {
                foreach (var e in kept)
                {
                    WriteRecord(stream, e);
                }
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, path, overwrite: true);
        }
    }

    private static long RecordLength(Event e) => 12 + e.CalculateSize() + 4;

    private static void WriteRecord(Stream stream, Event e)
    {
        var data = Google.Protobuf.MessageExtensions.ToByteArray(e);
        Span<byte> header = stackalloc byte[12];
        BinaryPrimitives.WriteUInt64LittleEndian(header, (ulong)data.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], Crc32C.Masked(header[..8]));
        stream.Write(header);
        stream.Write(data);
        Span<byte> footer = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(footer, Crc32C.Masked(data));
        stream.Write(footer);
    }

    /// <summary>CRC-32C (Castagnoli), masked the way TFRecord stores it.</summary>
    private static class Crc32C
    {
        private static readonly uint[] Table = BuildTable();

        public static uint Masked(ReadOnlySpan<byte> data)
        {
            var crc = 0xFFFFFFFFu;
            foreach (var b in data)
            {
                crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
            }
            crc ^= 0xFFFFFFFFu;
            return ((crc >> 15) | (crc << 17)) + 0xA282EAD8u;
        }

        private static uint[] BuildTable()
        {
            var table = new uint[256];
            for (uint i = 0; i < 256; i++)
            {
                var c = i;
                for (var k = 0; k < 8; k++)
                {
                    c = (c & 1) != 0 ? 0x82F63B78u ^ (c >> 1) : c >> 1;
                }
                table[i] = c;
            }
            return table;
        }
    }
}
