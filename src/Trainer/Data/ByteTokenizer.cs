using System.Text;

namespace Orchestrator.Trainer.Data;

/// <summary>
/// The simplest tokenizer that loses nothing: one token per byte of the UTF-8 text, a vocabulary of 256.
/// Enough to train a small language model on any text file without shipping a vocabulary; a real job with a
/// subword tokenizer writes its ids with <see cref="TokenFile.Write"/> instead.
/// </summary>
public static class ByteTokenizer
{
    public const int VocabularySize = 256;

    public static int[] Encode(string text) => Encoding.UTF8.GetBytes(text).Select(b => (int)b).ToArray();

    /// <summary>The text of some tokens; a window may cut a multi-byte character, shown as U+FFFD.</summary>
    public static string Decode(IEnumerable<int> tokens) => Encoding.UTF8.GetString(tokens.Select(t => checked((byte)t)).ToArray());

    /// <summary>
    /// Turns a text file into a uint16 token file, streaming (memory stays constant whatever the text's
    /// size) and atomically (temporary file, then rename). Returns the token count.
    /// </summary>
    public static long WriteTokenFile(string textPath, string tokenPath)
    {
        if (!File.Exists(textPath))
        {
            throw new FileNotFoundException($"text file {Path.GetFullPath(textPath)} does not exist", textPath);
        }
        using var text = new FileStream(textPath, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
        return PendingFile.Write(tokenPath, stream =>
        {
            var bytes = new byte[1 << 15];
            var tokens = new byte[bytes.Length * 2];
            var count = 0L;
            int read;
            while ((read = text.Read(bytes, 0, bytes.Length)) > 0)
            {
                for (var i = 0; i < read; i++)
                {
                    tokens[2 * i] = bytes[i]; // little-endian uint16: the byte, then a zero
                    tokens[(2 * i) + 1] = 0;
                }
                stream.Write(tokens, 0, 2 * read);
                count += read;
            }
            return count;
        });
    }
}
