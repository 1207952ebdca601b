using System.Buffers.Binary;
using Orchestrator.Trainer.Data;

namespace Orchestrator.Trainer.Interop;

/// <summary>
/// The entries of a zip file, read from its central directory, with where each one's bytes lie in the file.
/// <c>torch.save</c> stores its entries uncompressed so that they can be mapped where they are; only such
/// entries are read here. Every offset and size is checked against the file before it is used.
/// </summary>
internal sealed class ZipEntries
{
    private const uint EndOfDirectory = 0x06054b50;
    private const uint Zip64Locator = 0x07064b50;
    private const uint Zip64EndOfDirectory = 0x06064b50;
    private const uint DirectoryEntry = 0x02014b50;
    private const uint LocalHeader = 0x04034b50;
    private const ushort Stored = 0;

    private readonly Dictionary<string, ZipEntry> _entries;

    private ZipEntries(Dictionary<string, ZipEntry> entries) => _entries = entries;

    public IReadOnlyCollection<string> Names => _entries.Keys;

    /// <summary>Where an entry's bytes lie in the file, and whether it is stored uncompressed.</summary>
    public sealed record ZipEntry(string Name, long DataOffset, long Size, bool IsStored);

    public bool TryGet(string name, out ZipEntry entry) => _entries.TryGetValue(name, out entry!);

    /// <summary>True when the file ends with a zip directory (the only test a zip file passes for sure).</summary>
    public static bool LooksLikeZip(MappedFile file) => FindEnd(file) >= 0;

    /// <summary>The entries, or a refusal naming <paramref name="path"/> and what does not add up.</summary>
    public static ZipEntries Read(string path, MappedFile file)
    {
        var end = FindEnd(file);
        if (end < 0)
        {
            throw StateDictRefusal.Of(path, "is not a zip file (no end of central directory)");
        }
        var count = (long)U16(file, end + 10);
        var directorySize = (long)U32(file, end + 12);
        var directoryOffset = (long)U32(file, end + 16);
        if ((count == 0xFFFF || directorySize == 0xFFFFFFFF || directoryOffset == 0xFFFFFFFF) && end >= 20 && U32(file, end - 20) == Zip64Locator)
        {
            var zip64 = (long)Math.Min(U64(file, end - 20 + 8), long.MaxValue);
            if (zip64 > file.Length - 56 || U32(file, zip64) != Zip64EndOfDirectory)
            {
                throw StateDictRefusal.Of(path, "its zip64 directory record lies outside the file");
            }
            count = (long)Math.Min(U64(file, zip64 + 32), long.MaxValue);
            directorySize = (long)Math.Min(U64(file, zip64 + 40), long.MaxValue);
            directoryOffset = (long)Math.Min(U64(file, zip64 + 48), long.MaxValue);
        }
        if (directoryOffset > file.Length || directorySize > file.Length - directoryOffset || count > directorySize / 46)
        {
            throw StateDictRefusal.Of(path, $"its zip directory ({count} entries, {directorySize} bytes at {directoryOffset}) does not fit in the file of {file.Length} bytes");
        }
        var entries = new Dictionary<string, ZipEntry>(StringComparer.Ordinal);
        var position = directoryOffset;
        for (var index = 0; index < count; index++)
        {
            var entry = ReadEntry(path, file, ref position, directoryOffset + directorySize);
            if (!entries.TryAdd(entry.Name, entry))
            {
                throw StateDictRefusal.Of(path, $"zip entry '{entry.Name}' appears twice");
            }
        }
        return new ZipEntries(entries);
    }

    private static ZipEntry ReadEntry(string path, MappedFile file, ref long position, long directoryEnd)
    {
        if (position > directoryEnd - 46 || U32(file, position) != DirectoryEntry)
        {
            throw StateDictRefusal.Of(path, $"its zip directory is damaged at byte {position}");
        }
        var flags = U16(file, position + 8);
        var method = U16(file, position + 10);
        long compressed = U32(file, position + 20);
        long size = U32(file, position + 24);
        var nameLength = U16(file, position + 28);
        var extraLength = U16(file, position + 30);
        var commentLength = U16(file, position + 32);
        long localOffset = U32(file, position + 42);
        var next = position + 46 + nameLength + extraLength + commentLength;
        if (next > directoryEnd)
        {
            throw StateDictRefusal.Of(path, $"its zip directory is damaged at byte {position}");
        }
        var name = System.Text.Encoding.UTF8.GetString(file.Slice(position + 46, nameLength));
        ReadZip64Sizes(file, position + 46 + nameLength, extraLength, ref size, ref compressed, ref localOffset);
        position = next;
        if ((flags & 1) != 0)
        {
            throw StateDictRefusal.Of(path, $"zip entry '{name}' is encrypted");
        }
        if (localOffset > file.Length - 30 || U32(file, localOffset) != LocalHeader)
        {
            throw StateDictRefusal.Of(path, $"zip entry '{name}' points at byte {localOffset}, where there is no entry header");
        }
        var dataOffset = localOffset + 30 + U16(file, localOffset + 26) + U16(file, localOffset + 28);
        var stored = method == Stored && compressed == size;
        if (dataOffset > file.Length || compressed > file.Length - dataOffset)
        {
            throw StateDictRefusal.Of(path, $"zip entry '{name}' claims {compressed} bytes at byte {dataOffset}, past the end of the file ({file.Length} bytes); the file is truncated");
        }
        return new ZipEntry(name, dataOffset, size, stored);
    }

    // Sizes and offsets too large for 32 bits are in the zip64 extra field, in this order, only where the
    // 32-bit field holds 0xFFFFFFFF.
    private static void ReadZip64Sizes(MappedFile file, long extra, int length, ref long size, ref long compressed, ref long localOffset)
    {
        var end = extra + length;
        while (extra + 4 <= end)
        {
            var id = U16(file, extra);
            var fieldLength = U16(file, extra + 2);
            var field = extra + 4;
            if (field + fieldLength > end)
            {
                return;
            }
            if (id == 1)
            {
                var fieldEnd = field + fieldLength;
                if (size == 0xFFFFFFFF && field + 8 <= fieldEnd) { size = Clamp(U64(file, field)); field += 8; }
                if (compressed == 0xFFFFFFFF && field + 8 <= fieldEnd) { compressed = Clamp(U64(file, field)); field += 8; }
                if (localOffset == 0xFFFFFFFF && field + 8 <= fieldEnd) { localOffset = Clamp(U64(file, field)); }
                return;
            }
            extra = field + fieldLength;
        }
    }

    private static long FindEnd(MappedFile file)
    {
        var earliest = Math.Max(0, file.Length - 22 - ushort.MaxValue);
        for (var position = file.Length - 22; position >= earliest; position--)
        {
            if (U32(file, position) == EndOfDirectory && position + 22 + U16(file, position + 20) == file.Length)
            {
                return position;
            }
        }
        return -1;
    }

    private static long Clamp(ulong value) => (long)Math.Min(value, long.MaxValue);

    private static ushort U16(MappedFile file, long at) => BinaryPrimitives.ReadUInt16LittleEndian(file.Slice(at, 2));

    private static uint U32(MappedFile file, long at) => BinaryPrimitives.ReadUInt32LittleEndian(file.Slice(at, 4));

    private static ulong U64(MappedFile file, long at) => BinaryPrimitives.ReadUInt64LittleEndian(file.Slice(at, 8));
}
