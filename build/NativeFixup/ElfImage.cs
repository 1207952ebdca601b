using System.Buffers.Binary;
using System.Text;

namespace Orchestrator.NativeFixup;

/// <summary>
/// Just enough of a 64-bit little-endian ELF reader to walk the GNU symbol-versioning sections
/// (<c>.gnu.version_r</c> needs and <c>.gnu.version_d</c> definitions) of a shared library.
/// </summary>
public sealed class ElfImage
{
    public const uint VersionNeedSectionType = 0x6ffffffe; // SHT_GNU_verneed
    public const uint VersionDefinitionSectionType = 0x6ffffffd; // SHT_GNU_verdef
    public const ushort WeakVersionFlag = 0x2; // VER_FLG_WEAK

    private readonly byte[] _bytes;
    private readonly List<Section> _sections;

    private ElfImage(byte[] bytes, List<Section> sections)
    {
        _bytes = bytes;
        _sections = sections;
    }

    public byte[] Bytes => _bytes;

    public static ElfImage Parse(byte[] bytes)
    {
        if (bytes.Length < 64 || bytes[0] != 0x7f || bytes[1] != (byte)'E' || bytes[2] != (byte)'L' || bytes[3] != (byte)'F')
        {
            throw new InvalidDataException("not an ELF file");
        }
        if (bytes[4] != 2 || bytes[5] != 1)
        {
            throw new InvalidDataException("only 64-bit little-endian ELF files are supported");
        }
        var sectionTableOffset = checked((int)ReadU64(bytes, 0x28));
        var sectionEntrySize = ReadU16(bytes, 0x3A);
        var sectionCount = ReadU16(bytes, 0x3C);
        var sections = new List<Section>(sectionCount);
        for (var i = 0; i < sectionCount; i++)
        {
            var at = sectionTableOffset + (i * sectionEntrySize);
            sections.Add(new Section(
                Type: ReadU32(bytes, at + 4),
                Offset: checked((int)ReadU64(bytes, at + 0x18)),
                Size: checked((int)ReadU64(bytes, at + 0x20)),
                Link: ReadU32(bytes, at + 0x28),
                Info: ReadU32(bytes, at + 0x2C)));
        }
        return new ElfImage(bytes, sections);
    }

    /// <summary>Every version a library needs from others, with the file offset of its flags field.</summary>
    public IEnumerable<VersionNeed> VersionNeeds()
    {
        foreach (var section in _sections.Where(s => s.Type == VersionNeedSectionType))
        {
            var strings = _sections[(int)section.Link];
            var entryOffset = section.Offset;
            for (var n = 0; n < section.Info; n++)
            {
                var file = ReadString(strings, ReadU32(_bytes, entryOffset + 4));
                var auxCount = ReadU16(_bytes, entryOffset + 2);
                var auxOffset = entryOffset + (int)ReadU32(_bytes, entryOffset + 8);
                for (var a = 0; a < auxCount; a++)
                {
                    var flagsOffset = auxOffset + 4;
                    yield return new VersionNeed(
                        File: file,
                        Version: ReadString(strings, ReadU32(_bytes, auxOffset + 8)),
                        Flags: ReadU16(_bytes, flagsOffset),
                        FlagsFileOffset: flagsOffset);
                    auxOffset += (int)ReadU32(_bytes, auxOffset + 12);
                }
                var next = ReadU32(_bytes, entryOffset + 12);
                if (next == 0)
                {
                    break;
                }
                entryOffset += (int)next;
            }
        }
    }

    /// <summary>Every version name a library defines (what it offers to others).</summary>
    public IEnumerable<string> VersionDefinitions()
    {
        foreach (var section in _sections.Where(s => s.Type == VersionDefinitionSectionType))
        {
            var strings = _sections[(int)section.Link];
            var entryOffset = section.Offset;
            for (var n = 0; n < section.Info; n++)
            {
                var auxOffset = entryOffset + (int)ReadU32(_bytes, entryOffset + 12);
                yield return ReadString(strings, ReadU32(_bytes, auxOffset));
                var next = ReadU32(_bytes, entryOffset + 16);
                if (next == 0)
                {
                    break;
                }
                entryOffset += (int)next;
            }
        }
    }

    public void SetFlags(VersionNeed need, ushort flags) =>
        BinaryPrimitives.WriteUInt16LittleEndian(_bytes.AsSpan(need.FlagsFileOffset), flags);

    private string ReadString(Section strings, uint offset)
    {
        var start = strings.Offset + (int)offset;
        var end = Array.IndexOf(_bytes, (byte)0, start);
        return Encoding.ASCII.GetString(_bytes, start, end - start);
    }

    private static ushort ReadU16(byte[] s, int at) => BinaryPrimitives.ReadUInt16LittleEndian(s.AsSpan(at));
    private static uint ReadU32(byte[] s, int at) => BinaryPrimitives.ReadUInt32LittleEndian(s.AsSpan(at));
    private static ulong ReadU64(byte[] s, int at) => BinaryPrimitives.ReadUInt64LittleEndian(s.AsSpan(at));

    private sealed record Section(uint Type, int Offset, int Size, uint Link, uint Info);
}

public sealed record VersionNeed(string File, string Version, ushort Flags, int FlagsFileOffset)
{
    public bool IsWeak => (Flags & ElfImage.WeakVersionFlag) != 0;
}
