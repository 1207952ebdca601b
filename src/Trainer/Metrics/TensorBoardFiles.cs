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
        while (at + TfRecordBuffer.HeaderLength <= bytes.Length)
        {
            var length = BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(at));
            if (length > int.MaxValue || at + TfRecordBuffer.FramingLength + (long)length > bytes.Length)
            {
                break; // torn tail, or a record still being written
            }
            events.Add(Event.Parser.ParseFrom(bytes, at + TfRecordBuffer.HeaderLength, (int)length));
            at += TfRecordBuffer.FramingLength + (int)length;
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
            var records = new TfRecordBuffer();
            foreach (var e in kept)
            {
                records.Append(e);
            }
            var temporary = path + ".tmp";
            using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write))
            {
                stream.Write(records.Written);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, path, overwrite: true);
        }
    }

    private static long RecordLength(Event e) => TfRecordBuffer.FramingLength + e.CalculateSize();
}
