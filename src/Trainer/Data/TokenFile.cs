using System.Buffers.Binary;

namespace Orchestrator.Trainer.Data;

/// <summary>How many bytes one token id takes in a token file; the value is the byte count.</summary>
public enum TokenWidth
{
    /// <summary>Ids below 65,536 (GPT-2's 50,257 fit): nanoGPT's <c>train.bin</c>.</summary>
    UInt16 = 2,

    /// <summary>Ids below 2^31, for larger vocabularies.</summary>
    UInt32 = 4,
}

/// <summary>
/// Token files: raw little-endian token ids, one after another, no header (the layout nanoGPT's
/// <c>prepare.py</c> writes with <c>np.uint16.tofile</c>), read by <see cref="TokenFileDataset"/>.
/// </summary>
public static class TokenFile
{
    /// <summary>The narrowest width that holds every id of a vocabulary of this size.</summary>
    public static TokenWidth WidthFor(int vocabularySize) => vocabularySize <= 1 << 16 ? TokenWidth.UInt16 : TokenWidth.UInt32;

    /// <summary>
    /// Writes <paramref name="tokens"/> to <paramref name="path"/> atomically (temporary file, then rename), so
    /// a job killed mid-write never leaves a half file that a rerun would trust. Returns the token count.
    /// </summary>
    public static long Write(string path, IEnumerable<int> tokens, TokenWidth width)
    {
        var maximum = width == TokenWidth.UInt16 ? ushort.MaxValue : int.MaxValue;
        return PendingFile.Write(path, stream =>
        {
            var buffer = new byte[1 << 16];
            var used = 0;
            var count = 0L;
            foreach (var token in tokens)
            {
                if (token < 0 || token > maximum)
                {
                    throw new ArgumentOutOfRangeException(nameof(tokens), $"token {token} at index {count} does not fit a {width} token file (0 to {maximum})");
                }
                if (used + (int)width > buffer.Length)
                {
                    stream.Write(buffer, 0, used);
                    used = 0;
                }
                if (width == TokenWidth.UInt16)
                {
                    BinaryPrimitives.WriteUInt16LittleEndian(buffer.AsSpan(used), (ushort)token);
                }
                else
                {
                    BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(used), (uint)token);
                }
                used += (int)width;
                count++;
            }
            stream.Write(buffer, 0, used);
            return count;
        });
    }

    /// <summary>How many tokens a token file holds, or a one-line error when its size does not fit the width.</summary>
    public static long Count(string path, TokenWidth width)
    {
        var bytes = MappedFile.LengthOf(path, "token file");
        if (bytes % (int)width != 0)
        {
            throw new InvalidDataException($"token file {Path.GetFullPath(path)} has {bytes} bytes, not a multiple of {(int)width} ({width} tokens): another token width, or a file cut short");
        }
        return bytes / (int)width;
    }
}
