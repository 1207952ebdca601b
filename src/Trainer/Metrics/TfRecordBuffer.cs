using System.Buffers;
using System.Buffers.Binary;
using Google.Protobuf;

namespace Orchestrator.Trainer.Metrics;

/// <summary>
/// Protobuf messages framed as TFRecords, the way TensorBoard reads them, in one reused buffer: the length
/// (8 bytes), its masked CRC-32C, the message, the message's masked CRC-32C.
/// </summary>
internal sealed class TfRecordBuffer
{
    public const int HeaderLength = 12;
    public const int FramingLength = HeaderLength + 4;

    private readonly ArrayBufferWriter<byte> _records = new(1024);
    private byte[] _message = new byte[256];

    public ReadOnlySpan<byte> Written => _records.WrittenSpan;

    public void Append(IMessage message)
    {
        var length = message.CalculateSize();
        if (_message.Length < length)
        {
            _message = new byte[Math.Max(length, _message.Length * 2)];
        }
        // TorchSharp's generated TensorBoard messages predate span serialization: they write to a CodedOutputStream only.
        using (var coded = new CodedOutputStream(_message))
        {
            message.WriteTo(coded);
        }
        var data = _message.AsSpan(0, length);
        var record = _records.GetSpan(FramingLength + length);
        BinaryPrimitives.WriteUInt64LittleEndian(record, (ulong)length);
        BinaryPrimitives.WriteUInt32LittleEndian(record[8..], Crc32C.Masked(record[..8]));
        data.CopyTo(record[HeaderLength..]);
        BinaryPrimitives.WriteUInt32LittleEndian(record[(HeaderLength + length)..], Crc32C.Masked(data));
        _records.Advance(FramingLength + length);
    }

    public void Clear() => _records.ResetWrittenCount();

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
