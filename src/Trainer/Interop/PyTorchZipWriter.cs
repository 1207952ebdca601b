using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;

namespace Orchestrator.Trainer.Interop;

/// <summary>
/// The zip container of PyTorch's <c>torch.save</c> (format 3): every record STORED (uncompressed) under one
/// top-level folder, each record's data 64-byte aligned by padding its local header's extra field (the
/// <c>FB</c> field torch writes), so a reader may map tensors straight from the file. ZIP64 records are added
/// where a size or an offset passes 4 GiB. Records are written one after another into the file; only the
/// central directory's few bytes per record are kept until the end.
/// </summary>
internal sealed class PyTorchZipWriter(ExportFile file, bool forceZip64 = false)
{
    public const string ArchiveFolder = "archive";
    private const int Alignment = 64;
    private const uint Overflow = 0xFFFFFFFF;
    private const ushort DosDate1980 = (1 << 5) | 1; // 1980-01-01: fixed, so two exports of one checkpoint are identical
    private readonly List<(byte[] Name, uint Crc, long Size, long Offset)> _records = [];

    /// <summary>Adds <c>archive/NAME</c> holding <paramref name="bytes"/>.</summary>
    public void Add(string name, ReadOnlySpan<byte> bytes)
    {
        var fullName = Encoding.UTF8.GetBytes($"{ArchiveFolder}/{name}");
        var crc = Crc32.HashToUInt32(bytes);
        var offset = file.Position;
        // A record is one array, under 2 GiB: only its offset can pass 4 GiB, which the central directory holds.
        var zip64 = forceZip64;
        var zip64Extra = zip64 ? 20 : 0;
        var unpadded = offset + 30 + fullName.Length + zip64Extra + 4;
        var padding = (int)((Alignment - (unpadded % Alignment)) % Alignment);
        var header = new byte[30 + fullName.Length + zip64Extra + 4 + padding];
        var h = header.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(h, 0x04034b50);
        BinaryPrimitives.WriteUInt16LittleEndian(h[4..], zip64 ? (ushort)45 : (ushort)20);
        BinaryPrimitives.WriteUInt16LittleEndian(h[12..], DosDate1980);
        BinaryPrimitives.WriteUInt32LittleEndian(h[14..], crc);
        BinaryPrimitives.WriteUInt32LittleEndian(h[18..], zip64 ? Overflow : (uint)bytes.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(h[22..], zip64 ? Overflow : (uint)bytes.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(h[26..], (ushort)fullName.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(h[28..], (ushort)(zip64Extra + 4 + padding));
        fullName.CopyTo(h[30..]);
        var extra = h[(30 + fullName.Length)..];
        if (zip64)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(extra, 0x0001);
            BinaryPrimitives.WriteUInt16LittleEndian(extra[2..], 16);
            BinaryPrimitives.WriteInt64LittleEndian(extra[4..], bytes.Length);
            BinaryPrimitives.WriteInt64LittleEndian(extra[12..], bytes.Length);
            extra = extra[20..];
        }
        BinaryPrimitives.WriteUInt16LittleEndian(extra, 0x4246); // "FB"
        BinaryPrimitives.WriteUInt16LittleEndian(extra[2..], (ushort)padding);
        extra[4..].Fill((byte)'Z');
        file.Write(header);
        file.Write(bytes);
        _records.Add((fullName, crc, bytes.Length, offset));
    }

    /// <summary>Writes the central directory and its end record; the archive is complete after this.</summary>
    public void Finish()
    {
        var directoryStart = file.Position;
        foreach (var (name, crc, size, offset) in _records)
        {
            var sizeOverflows = forceZip64;
            var offsetOverflows = forceZip64 || offset >= Overflow;
            var extraLength = (sizeOverflows ? 16 : 0) + (offsetOverflows ? 8 : 0);
            var entry = new byte[46 + name.Length + (extraLength > 0 ? 4 + extraLength : 0)];
            var e = entry.AsSpan();
            BinaryPrimitives.WriteUInt32LittleEndian(e, 0x02014b50);
            BinaryPrimitives.WriteUInt16LittleEndian(e[4..], 45);
            BinaryPrimitives.WriteUInt16LittleEndian(e[6..], extraLength > 0 ? (ushort)45 : (ushort)20);
            BinaryPrimitives.WriteUInt16LittleEndian(e[14..], DosDate1980);
            BinaryPrimitives.WriteUInt32LittleEndian(e[16..], crc);
            BinaryPrimitives.WriteUInt32LittleEndian(e[20..], sizeOverflows ? Overflow : (uint)size);
            BinaryPrimitives.WriteUInt32LittleEndian(e[24..], sizeOverflows ? Overflow : (uint)size);
            BinaryPrimitives.WriteUInt16LittleEndian(e[28..], (ushort)name.Length);
            BinaryPrimitives.WriteUInt16LittleEndian(e[30..], (ushort)(extraLength > 0 ? 4 + extraLength : 0));
            BinaryPrimitives.WriteUInt32LittleEndian(e[42..], offsetOverflows ? Overflow : (uint)offset);
            name.CopyTo(e[46..]);
            if (extraLength > 0)
            {
                var extra = e[(46 + name.Length)..];
                BinaryPrimitives.WriteUInt16LittleEndian(extra, 0x0001);
                BinaryPrimitives.WriteUInt16LittleEndian(extra[2..], (ushort)extraLength);
                extra = extra[4..];
                if (sizeOverflows)
                {
                    BinaryPrimitives.WriteInt64LittleEndian(extra, size);
                    BinaryPrimitives.WriteInt64LittleEndian(extra[8..], size);
                    extra = extra[16..];
                }
                if (offsetOverflows)
                {
                    BinaryPrimitives.WriteInt64LittleEndian(extra, offset);
                }
            }
            file.Write(entry);
        }
        WriteEnd(directoryStart, file.Position - directoryStart);
    }

    private void WriteEnd(long directoryStart, long directoryBytes)
    {
        var count = _records.Count;
        var zip64 = forceZip64 || count >= 0xFFFF || directoryStart >= Overflow || directoryBytes >= Overflow;
        if (zip64)
        {
            var recordStart = file.Position;
            var record = new byte[56 + 20];
            var r = record.AsSpan();
            BinaryPrimitives.WriteUInt32LittleEndian(r, 0x06064b50);
            BinaryPrimitives.WriteInt64LittleEndian(r[4..], 44);
            BinaryPrimitives.WriteUInt16LittleEndian(r[12..], 45);
            BinaryPrimitives.WriteUInt16LittleEndian(r[14..], 45);
            BinaryPrimitives.WriteInt64LittleEndian(r[24..], count);
            BinaryPrimitives.WriteInt64LittleEndian(r[32..], count);
            BinaryPrimitives.WriteInt64LittleEndian(r[40..], directoryBytes);
            BinaryPrimitives.WriteInt64LittleEndian(r[48..], directoryStart);
            var locator = r[56..];
            BinaryPrimitives.WriteUInt32LittleEndian(locator, 0x07064b50);
            BinaryPrimitives.WriteInt64LittleEndian(locator[8..], recordStart);
            BinaryPrimitives.WriteUInt32LittleEndian(locator[16..], 1);
            file.Write(record);
        }
        var end = new byte[22];
        var d = end.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(d, 0x06054b50);
        BinaryPrimitives.WriteUInt16LittleEndian(d[8..], zip64 ? (ushort)0xFFFF : (ushort)count);
        BinaryPrimitives.WriteUInt16LittleEndian(d[10..], zip64 ? (ushort)0xFFFF : (ushort)count);
        BinaryPrimitives.WriteUInt32LittleEndian(d[12..], zip64 ? Overflow : (uint)directoryBytes);
        BinaryPrimitives.WriteUInt32LittleEndian(d[16..], zip64 ? Overflow : (uint)directoryStart);
        file.Write(end);
    }
}
